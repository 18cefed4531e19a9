/*
 * control.h - a daemon's control socket, served from its event loop.
 *
 * An AF_UNIX stream socket (mode 0660; group "smtpgate" when that group
 * exists, else root's).  Protocol, one exchange per connection:
 *   client -> daemon: one request line "VERB [ARG ...]\n", at most
 *                     CONTROL_LINE_MAX bytes, printable ASCII (a NUL or
 *                     other control byte is a bad request), arguments
 *                     separated by spaces; bytes after its LF are not
 *                     read;
 *   daemon -> client: "ok\n" or "error: REASON\n", then data lines, then
 *                     the daemon closes the connection.
 * Data lines are records of "key=value" fields separated by spaces (values
 * never contain spaces or "="), e.g. for stats "queued=12 verdicts=12 ...",
 * for listings one record per line.  smtpgatectl renders them as text,
 * JSON or Prometheus exposition.
 *
 * Handlers run synchronously inside the loop and must not block.  A slow
 * or silent client cannot stall the daemon: reads and writes are
 * non-blocking with a per-connection timeout, and the number of open
 * connections is bounded.
 */
#ifndef SMTPGATE_CONTROL_H
#define SMTPGATE_CONTROL_H

#include <stddef.h>

#include "evloop.h"

#define CONTROL_LINE_MAX	1024
#define CONTROL_MAX_ARGS	16

struct control;
struct control_reply;

typedef void (*control_handler)(void *arg, int argc, char *argv[],
    struct control_reply *r);

/*
 * Listen on path (an old socket file is replaced; the directory is
 * created mode 0750 if missing).  NULL with "control: ..." in err.
 */
struct control *control_open(struct evloop *ev, const char *path, char *err,
    size_t errlen);
/* Close the socket and every connection, remove the socket file. */
void control_close(struct control *c);

/*
 * For tests and the fuzzer: a verb table without a socket (control_close
 * frees it), and the server's answer to the bytes a client sent before
 * closing, data[0..len): 1 with the reply the client would read in
 * *reply (malloc'ed, NUL-terminated, *replylen bytes), 0 when the server
 * would close without a word (no LF within what came), -1 out of memory.
 * The connection's own path (control_conn_io) goes through the same
 * parsing and dispatch.
 */
struct control *control_new(struct evloop *ev);
int control_answer(struct control *c, const char *data, size_t len,
    char **reply, size_t *replylen);

/* Route VERB to h.  argv[0] is the verb.  0 or -1 (table full). */
int control_register(struct control *c, const char *verb, control_handler h,
    void *arg);

/* Append one data line (the "ok" line is implied unless an error is set). */
void control_reply_line(struct control_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make the reply "error: ..." (data lines are discarded). */
void control_reply_error(struct control_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * [cluster] as both daemons tell it (control_cluster.c, cluster.h): the
 * verb "cluster"'s lines for c (NULL: [cluster] off, "state=off"), node
 * being this gateway's name; the cluster_ fields of a stats line into
 * buf (all zero when c is NULL; the length written); and the name of
 * this gateway ([cluster] node, else the host name) into buf.
 */
struct cluster;
struct conf_cluster;
void control_cluster_reply(struct control_reply *r, const struct cluster *c,
    const char *node);
size_t control_cluster_stats(char *buf, size_t len, const struct cluster *c);
void control_cluster_node(const struct conf_cluster *cc, char *buf,
    size_t len);

/*
 * Client side, for smtpgatectl: send one request, read the whole answer
 * into buf (NUL-terminated) within timeout_ms.  Returns 0 when the daemon
 * answered "ok" (buf holds the data lines), 1 when it answered an error
 * (buf holds the reason), -1 when it could not be reached (errno set).
 */
int control_request(const char *path, const char *request, char *buf,
    size_t len, int timeout_ms);

#endif
