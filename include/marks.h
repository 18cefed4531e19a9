/*
 * marks.h - packet mark bits smtpgate owns.  The ruleset (nft/smtpgate.nft,
 * src/nft/smtpgate-nft.c) and the daemons must agree on these.
 *
 * The kernel here cannot send a TCP reset from a queue verdict, so a reject
 * is an NF_REPEAT verdict carrying MARK_REJECT: the packet re-enters our
 * chain, whose first rule resets marked packets.  Only bits in MARK_MASK are
 * touched; an admin's own marks in other bits survive.
 */
#ifndef SMTPGATE_MARKS_H
#define SMTPGATE_MARKS_H

#define MARK_MASK	0x00ff0000u	/* the byte smtpgate owns */
#define MARK_REJECT	0x00510000u	/* gate verdict: reset the client */
#define MARK_SNIFFED	0x00520000u	/* sniffer: done with this session */

#endif
