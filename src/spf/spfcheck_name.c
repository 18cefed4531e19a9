/*
 * spfcheck_name.c - the names of SPF results (spfcheck.h), for the log
 * lines of the sniffer and smtpgatectl check.  Apart from spfcheck.c so
 * that the scenario tests' fake SPF client can take spfcheck.c's place.
 *
 * Exports spfcheck_name.  Pure code.
 */
#include "spfcheck.h"

const char *
spfcheck_name(enum spfcheck_result r)
{
	switch (r) {
	case SPFCHECK_PASS:	return "pass";
	case SPFCHECK_FAIL:	return "fail";
	case SPFCHECK_SOFTFAIL:	return "softfail";
	case SPFCHECK_NEUTRAL:	return "neutral";
	case SPFCHECK_NONE:	return "none";
	case SPFCHECK_TEMPERROR: return "temperror";
	case SPFCHECK_PERMERROR: return "permerror";
	case SPFCHECK_CANCELLED: return "cancelled";
	}
	return "?";
}
