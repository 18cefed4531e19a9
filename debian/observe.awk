# observe.awk - the packaged smtpgate.conf: [gate] enforce = no and
# [sniffer] enforce = no, right after each section's header with a comment
# saying how to switch; an enforce line the example already has in those
# sections is left out (a repeated key is an error).
/^\[[a-z]+\][ \t]*$/ {
	sect = $0
	gsub(/[][ \t]/, "", sect)
	print
	if (sect == "gate" || sect == "sniffer") {
		print "; Installed in observe mode: every rule is judged, journaled and"
		print "; logged (verdict=reject enforced=no), and the client is accepted."
		print "; When `smtpgatectl report` looks right, set enforce = yes here and"
		print "; run: systemctl restart smtpgated smtpgate-sniffd"
		print "enforce = no"
		print ""
		n[sect]++
	}
	next
}
(sect == "gate" || sect == "sniffer") && /^enforce[ \t]*[=:]/ { next }
{ print }
END {
	if (n["gate"] != 1 || n["sniffer"] != 1) {
		print "observe.awk: want one [gate] and one [sniffer] section" >"/dev/stderr"
		exit 1
	}
}
