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
/*
 * What the server had sent when a client packet queued to the sniffer
 * passed chain sniff (its conntrack reply-direction packet count, set by
 * the ruleset just before the queue rule; smtpproto.h): its SYN-ACK only
 * (the banner had not left), or one packet since (the banner).  No mark
 * of these: more, or a ruleset without the rules.
 */
#define MARK_SRV_SYNACK	0x00530000u
#define MARK_SRV_BANNER	0x00540000u

#endif
