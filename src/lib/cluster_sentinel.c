/*
 * cluster_sentinel.c - where the master is, with [cluster] sentinel: a
 * Sentinel is asked SENTINEL get-master-addr-by-name NAME at each
 * (re)connect (the next one in the list after a failure), and the same
 * connection then stays subscribed to +switch-master, whose message
 * ("NAME OLDIP OLDPORT NEWIP NEWPORT") moves both master links.
 *
 * Exports cluster_sentinel_start (cluster_int.h).  A Sentinel's answers
 * are hostile like any value: the address must be numeric (a Sentinel
 * announcing names would need a blocking lookup) and the port 1..65535.
 * Sentinels are asked without AUTH (smtpgate.conf(5)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"

/* A numeric address and a port from a Sentinel, into c's master. */
static int
cluster_sentinel_addr(const char *ip, size_t iplen, const char *port,
    size_t portlen, char *host, size_t hostlen, int *portp)
{
	char ipbuf[ADDR_STRLEN], pbuf[8];
	struct addr a;
	long p;
	char *end;

	if (iplen == 0 || iplen >= sizeof ipbuf || portlen == 0 ||
	    portlen >= sizeof pbuf || hostlen < ADDR_STRLEN)
		return -1;
	memcpy(ipbuf, ip, iplen);
	ipbuf[iplen] = '\0';
	memcpy(pbuf, port, portlen);
	pbuf[portlen] = '\0';
	if (addr_parse(ipbuf, &a) != 0)
		return -1;
	p = strtol(pbuf, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535 || pbuf[0] == '0')
		return -1;
	addr_ntop(&a, host);
	*portp = (int)p;
	return 0;
}

static void
cluster_sentinel_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	char host[ADDR_STRLEN];
	int port;

	if (r == NULL || c->failing)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(c, "SENTINEL", r);
		cluster_link_fail(q->k, "sentinel %s: %.*s", q->k->server, (int)r->len,
		    r->str);
		return;
	}
	if (r->type == REDIS_REPLY_NIL) {
		cluster_link_fail(q->k, "sentinel %s: master %s unknown", q->k->server,
		    c->cc.sentinel_master);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    cluster_sentinel_addr(r->element[0]->str, r->element[0]->len,
	    r->element[1]->str, r->element[1]->len, host, sizeof host,
	    &port) != 0) {
		cluster_refuse(c, q->k->server, "SENTINEL "
		    "get-master-addr-by-name: not a numeric address and port");
		cluster_link_fail(q->k, "sentinel %s: no usable master address",
		    q->k->server);
		return;
	}
	if (c->st.state == CLUSTER_CONNECTING) {
		if (strcmp(host, c->host) != 0 || port != c->port)
			log_info("cluster: sentinel: master %s is %s%s%s:%d",
			    c->cc.sentinel_master, strchr(host, ':') ? "[" :
			    "", host, strchr(host, ':') ? "]" : "", port);
		snprintf(c->host, sizeof c->host, "%s", host);
		c->port = port;
		cluster_connect_master(c);
		return;
	}
	/* Asked again while up (the watch reopened): moved meanwhile? */
	c->sent_backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	if (c->sent_lost_logged) {
		c->sent_lost_logged = false;
		log_info("cluster: sentinel: watching %s again (master %s is "
		    "%s%s%s:%d)", q->k->server, c->cc.sentinel_master,
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
	}
	if (strcmp(host, c->host) != 0 || port != c->port) {
		c->st.failovers++;
		log_info("cluster: sentinel: failover to %s%s%s:%d",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
		snprintf(c->host, sizeof c->host, "%s", host);
		c->port = port;
		c->failover = true;
		cluster_fail(c, "sentinel: the master moved");
	}
}

/* +switch-master: "NAME OLDIP OLDPORT NEWIP NEWPORT". */
static void
cluster_sentinel_message(struct cluster_conn *k, const char *chan,
    size_t chanlen, const char *data, size_t len)
{
	struct cluster *c = k->c;
	char host[ADDR_STRLEN], why[128];
	int port, rc;

	if (chanlen != 14 || memcmp(chan, "+switch-master", 14) != 0)
		return;
	rc = cluster_msg_switch(data, len, c->cc.sentinel_master, host, &port,
	    why, sizeof why);
	if (rc == -1) {
		cluster_refuse(c, "+switch-master", why);
		return;
	}
	if (rc == 0)
		return;		/* another master */
	if (strcmp(host, c->host) == 0 && port == c->port)
		return;
	c->st.failovers++;
	log_info("cluster: sentinel: failover to %s%s%s:%d",
	    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	    port);
	snprintf(c->host, sizeof c->host, "%s", host);
	c->port = port;
	/* The links go now and come back to the new master at once. */
	c->failover = true;
	cluster_fail(c, "sentinel: failover to %s:%d", host, port);
}

void
cluster_sentinel_start(struct cluster *c)
{
	struct cluster_conn *k = &c->sent;
	char host[ADDR_STRLEN], why[CLUSTER_WHY_MAX];
	const char *argv[3];
	size_t argvlen[3];
	const char *s;
	int port;

	cluster_conn_close(k);
	if (c->cc.nsentinels == 0)
		return;
	s = c->cc.sentinel_host[c->sent_next % c->cc.nsentinels];
	if (cluster_split_hostport(s, host, sizeof host, &port) != 0) {
		cluster_fail(c, "sentinel '%s': not ADDR:PORT", s);
		return;
	}
	k->on_message = cluster_sentinel_message;
	k->on_ready = NULL;
	if (cluster_conn_open(k, host, port, NULL, false, why,
	    sizeof why) != 0) {
		cluster_link_fail(k, "%s", why);
		return;
	}
	argv[0] = "SENTINEL";
	argv[1] = "get-master-addr-by-name";
	argv[2] = c->cc.sentinel_master;
	for (int i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	if (cluster_conn_command(k, NULL, cluster_sentinel_reply, "SENTINEL",
	    3, argv, argvlen) != 0 ||
	    cluster_conn_subscribe(k, "+switch-master") != 0)
		cluster_link_fail(k, "sentinel %s: cannot queue the question",
		    k->server);
}
