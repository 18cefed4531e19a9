#!/bin/sh
# ptr-eval.sh BUILD_DIR - measure the generic-PTR classifier on the labelled
# corpus (`make ptr-eval`).
#
# Runs BUILD_DIR/smtpgatectl classify-ptr over each set of labelled names
# (columns ip, ptr, label, source; label generic or named), once with names
# treated as forward-confirmed (the provider table counts) and once with
# --unconfirmed (it does not), and prints for each: recall on generic names
# (any class but named counts as found: static-generic, and invalid, which a
# gate does not let pass as named either), the false-positive rate on named
# ones (any class but named), and every miss with its reason.
#
# The sets:
#   dev      the shared corpus ($SMTPGATE_CORPUS, else
#            ../shared/corpus/ptr-dev.tsv beside the project root, or beside
#            the main checkout when this is a git worktree) and the names
#            grown in the repository, tests/data/ptr/dev.tsv;
#   heldout  tests/data/ptr/heldout.tsv: names kept out of development (see
#            tests/data/ptr/README), measured so that rules tuned on dev are
#            seen on names they were not tuned on.
# Exit 0 when both targets (recall >= 98.5%, false positives <= 0.5%) are
# met on dev in the confirmed run, 1 when not, 2 when the run itself failed.
# The held-out figures are printed, not gated: a set of a hundred-odd names
# moves by a percent per name.
set -u
# SMTPGATE_CORPUS and BUILD_DIR, when relative, are taken from the caller's
# directory; the default corpus from the project root.
here=$PWD
build=${1:-build}
corpus=${SMTPGATE_CORPUS:-}
cd "$(dirname "$0")/.." || exit 2
root=$PWD
case $build in /*) ;; *) build=$here/$build ;; esac
case $corpus in
"")
	corpus=$root/../shared/corpus/ptr-dev.tsv
	if [ ! -r "$corpus" ]; then
		common=$(git rev-parse --path-format=absolute --git-common-dir \
		    2>/dev/null) && [ -r "$common/../../shared/corpus/ptr-dev.tsv" ] &&
		    corpus=$common/../../shared/corpus/ptr-dev.tsv
	fi ;;
/*) ;;
*) corpus=$here/$corpus ;;
esac
ctl=$build/smtpgatectl
grown=$root/tests/data/ptr/dev.tsv
heldout=$root/tests/data/ptr/heldout.tsv

[ -x "$ctl" ] || { echo "ptr-eval: $ctl: not built" >&2; exit 2; }
for f in "$corpus" "$grown" "$heldout"; do
	[ -r "$f" ] || { echo "ptr-eval: $f: not readable" >&2; exit 2; }
done

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# ip<TAB>ptr<TAB>label of each file, header dropped; the command ignores
# extra columns but we keep the label beside its verdict by line order.
rows() {
	awk -F'\t' 'FNR > 1 && NF >= 3 { print $1 "\t" $2 "\t" $3 }' "$@"
}
rows "$corpus" "$grown" > "$tmp/dev" || exit 2
rows "$heldout" > "$tmp/heldout" || exit 2

rc=0
for set in dev heldout; do
	for mode in confirmed unconfirmed; do
		flag=
		[ "$mode" = unconfirmed ] && flag=--unconfirmed
		if ! "$ctl" classify-ptr $flag --providers data/ptr-providers.conf \
		    < "$tmp/$set" > "$tmp/out" 2> "$tmp/err"; then
			echo "ptr-eval: smtpgatectl classify-ptr failed:" >&2
			cat "$tmp/err" >&2
			exit 2
		fi
		if [ "$(wc -l < "$tmp/$set")" -ne "$(wc -l < "$tmp/out")" ]; then
			echo "ptr-eval: $(wc -l < "$tmp/$set") names in," \
			    "$(wc -l < "$tmp/out") verdicts out" >&2
			exit 2
		fi
		paste "$tmp/$set" "$tmp/out" | awk -F'\t' -v set="$set" -v mode="$mode" '
		{
			label = $3; cls = $6; reason = $7
			if (label == "generic") {
				g++
				if (cls != "named") gf++
				else miss[++nm] = "  missed generic: " $2 "  [" $1 "]  " cls " " reason
			} else if (label == "named") {
				n++
				if (cls != "named") fp[++nf] = "  false positive: " $2 "  [" $1 "]  " cls " " reason
			}
		}
		END {
			recall = g ? 100 * gf / g : 0
			fpr = n ? 100 * nf / n : 0
			printf "ptr-eval %s (%s): recall %.1f%% of generic (%d/%d, target >= 98.5%%), " \
			    "false positives %.1f%% of named (%d/%d, target <= 0.5%%)\n",
			    set, mode, recall, gf, g, fpr, nf, n
			for (i = 1; i <= nm; i++) print miss[i]
			for (i = 1; i <= nf; i++) print fp[i]
			exit !(recall >= 98.5 && fpr <= 0.5)
		}' || { [ "$set" = dev ] && [ "$mode" = confirmed ] && rc=1; }
	done
done
exit $rc
