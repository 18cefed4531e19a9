# observe.awk - the packaged smtpgate.conf: [gate] enforce = no and
# [sniffer] enforce = no, each with a comment saying how to switch.  Run
# as `awk -f observe.awk FILE FILE` (two passes): the enforce line of each
# section is replaced where it is, below the example's own description of
# the key; a section without one gets the key right after its header.
# Fails unless both sections got exactly one.
function block() {
	print "; Installed by the Debian package in observe mode.  When the"
	print "; verdicts and `smtpgatectl report` look right: enforce = yes, then"
	print "; smtpgatectl reload (or systemctl restart smtpgated smtpgate-sniffd)."
	print "enforce = no"
	n[sect]++
}
/^\[[a-z]+\][ \t]*$/ {
	sect = $0
	gsub(/[][ \t]/, "", sect)
	if (NR != FNR) {
		print
		if ((sect == "gate" || sect == "sniffer") && !has[sect]) {
			block()
			print ""
		}
	}
	next
}
NR == FNR {
	if ((sect == "gate" || sect == "sniffer") && /^enforce[ \t]*[=:]/)
		has[sect] = 1
	next
}
(sect == "gate" || sect == "sniffer") && /^enforce[ \t]*[=:]/ { block(); next }
{ print }
END {
	if (n["gate"] != 1 || n["sniffer"] != 1) {
		print "observe.awk: want one enforce line in [gate] and [sniffer]" >"/dev/stderr"
		exit 1
	}
}
