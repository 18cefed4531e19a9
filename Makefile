# smtpgate - build, test, demo, bench, install.
#
# src/ is in folders by role (docs/ARCHITECTURE.md): lib (the shared
# library), judge (the pure judgments), spf (the SPF sandbox), gate
# (smtpgated), sniff (smtpgate-sniffd), ctl (smtpgatectl), nft
# (smtpgate-nft).  Every src/*/*.c except the program mains goes into one
# static library that the programs, the unit tests and the fuzz targets link.
# Public headers are in include/, a folder's private ones beside its code.
# New modules need no Makefile change: drop src/ROLE/foo.c and
# tests/unit/test_foo.c in place.
# The scenario runners (tests/scenario/run_*.c) link the fakes of
# tests/scenario/ before the library, in place of the real queue, resolver,
# set writer and SPF client; tests/scenario/NAME/*.scn are run_NAME's.
#
#   make            build the programs into build/
#   make check      unit and scenario tests (plain and ASan+UBSan), fuzz
#                   smoke, install tree, Debian package, end-to-end
#   make unit       unit tests, then the scenario tests
#   make scenario   the scenario tests alone (no root, virtual time)
#   make demo       install what is missing, bring up a test world, show verdicts
#   make bench      benchmarks that print figures
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package, into build/deb/
#   make deb-check  build, lint, install, upgrade and purge it (root)

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/smtpgate
SYSCONFDIR ?= /etc
DESTDIR ?=

CC      ?= cc
PKGS    := libnetfilter_queue libmnl libnftnl libcares libpsl inih hiredis
BUILD   ?= build
SAN     ?=

# CFLAGS, CPPFLAGS and LDFLAGS from the environment or the command line
# (dpkg-buildflags' hardening, say) come first; ours are added with
# override, so that a command-line CFLAGS keeps them (and -Werror).
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing \
	   -Iinclude -DSHAREDIR='"$(SHAREDIR)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lspf2 -lsqlite3 -lpthread

ifneq ($(SAN),)
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

MAINS   := src/gate/smtpgated.c src/sniff/smtpgate-sniffd.c \
	   src/ctl/smtpgatectl.c src/nft/smtpgate-nft.c
PROGS   := $(foreach m,$(MAINS),$(BUILD)/$(basename $(notdir $(m))))
LIBSRC  := $(filter-out $(MAINS),$(wildcard src/*/*.c))
LIBOBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIBSRC))
LIB     := $(BUILD)/libsmtpgate.a
# White-box tests reach the folders' private headers.
PRIVINC := $(addprefix -I,$(sort $(dir $(wildcard src/*/*.h))))
UNITSRC := $(wildcard tests/unit/test_*.c)
UNITS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNITSRC))
TESTTOOLSRC := $(wildcard tests/tools/*.c)
TESTTOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TESTTOOLSRC))
SCNSRC  := $(filter-out tests/scenario/run_%.c,$(wildcard tests/scenario/*.c))
SCNOBJ  := $(patsubst tests/scenario/%.c,$(BUILD)/scenario/obj/%.o,$(SCNSRC))
SCNRUNS := $(patsubst tests/scenario/%.c,$(BUILD)/scenario/%,$(wildcard tests/scenario/run_*.c))
SCNHDRS := $(wildcard tests/scenario/*.h)
BENCHSRC := $(wildcard bench/bench_*.c)
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCHSRC))
HDRS    := $(wildcard include/*.h src/*/*.h)

.PHONY: all benches check unit unit-san scenario fuzz e2e demo bench install install-check clean deps ptr-eval \
	deb deb-check

all: $(PROGS)

benches: $(BENCHES) $(TESTTOOLS)

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The built-in provider table is the data file, assembled in (.incbin).
$(BUILD)/obj/judge/ptrclass_builtin.o: data/ptr-providers.conf

$(LIB): $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

# A program: its main, beside its folder's code.
define PROG_RULE
$(BUILD)/$(basename $(notdir $(1))): $(1) $$(LIB) $$(HDRS)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(PKG_CFLAGS) $$(LDFLAGS) -o $$@ $$< $$(LIB) $$(LDLIBS)
endef
$(foreach m,$(MAINS),$(eval $(call PROG_RULE,$(m))))

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HDRS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PRIVINC) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# Scenario runners: the fakes and the runner's core first, so that the
# linker never takes dns.o, queue.o, nftset.o, spfcheck*.o (but the pure
# spfcheck_name.o), gate_watch.o, sniff_ct.o or sniff_cut.o from the
# library (it would clash if it did: a link error, never the real code).
$(BUILD)/scenario/obj/%.o: tests/scenario/%.c $(HDRS) $(SCNHDRS) | $(BUILD)/scenario/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PRIVINC) $(PKG_CFLAGS) -Itests/scenario -c -o $@ $<

# Kept (make would delete them as intermediates of the pattern rule).
.SECONDARY: $(SCNOBJ)

$(BUILD)/scenario/run_%: tests/scenario/run_%.c $(SCNOBJ) $(LIB) $(HDRS) $(SCNHDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PRIVINC) $(PKG_CFLAGS) -Itests/scenario $(LDFLAGS) -o $@ $< $(SCNOBJ) $(LIB) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB) $(HDRS) | $(BUILD)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# bench_scale reads the daemons' private structs (their sizes), bench_rtt
# the sniffer's.
$(BUILD)/bench/bench_scale $(BUILD)/bench/bench_rtt: $(BUILD)/bench/%: bench/%.c $(LIB) $(HDRS) | $(BUILD)/bench
	$(CC) $(CFLAGS) $(PRIVINC) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Test programs the e2e tests and benchmarks run (tests/tools/*.c).
$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB) $(HDRS) | $(BUILD)/tests/tools
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests $(BUILD)/bench $(BUILD)/tests/tools $(BUILD)/scenario/obj:
	mkdir -p $@

# Unit tests: every tests/unit/test_*.c is one cmocka program; then the
# scenario tests.
unit: $(UNITS) $(SCNRUNS)
	@tests/run-unit.sh $(UNITS)
	@tests/run-scenario.sh $(BUILD)/scenario

# Scenario tests: each runner replays tests/scenario/NAME/*.scn.
scenario: $(SCNRUNS)
	@tests/run-scenario.sh $(BUILD)/scenario

unit-san:
	$(MAKE) BUILD=build/san SAN=1 unit

fuzz:
	@tests/run-fuzz.sh

e2e: all
	$(MAKE) BUILD=build/san SAN=1 all benches
	@tests/e2e/run.sh build/san

check: all
	tools/install-deps.sh --check
	$(MAKE) unit
	$(MAKE) unit-san
	$(MAKE) fuzz
	$(MAKE) install-check
	$(MAKE) deb-check
	$(MAKE) e2e

deps:
	tools/install-deps.sh

demo: deps
	$(MAKE) all
	tests/demo.sh $(BUILD)

bench: all $(BENCHES) $(TESTTOOLS)
	bench/run.sh $(BUILD)

ptr-eval: all
	tests/ptr-eval.sh $(BUILD)

# install: the programs, the nft file, data, man pages (their
# /usr/local/share/smtpgate made $(SHAREDIR)), the example config
# (never over an existing one), systemd units for both daemons, the
# smtpgate user (sysusers.d) and its directories (tmpfiles.d).  Without
# DESTDIR, the user and directories are made at once, as a package's
# postinst would: with systemd-sysusers/tmpfiles when present, else with
# useradd; either way /var/lib/smtpgate belongs to smtpgate and the
# configuration is readable by group smtpgate (the daemons, started as
# root, run as that user and read it again on reload).
install: UNITDIR ?= $(PREFIX)/lib/systemd/system
install: SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
install: TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SHAREDIR) $(DESTDIR)$(SYSCONFDIR)/smtpgate \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 644 nft/smtpgate.nft $(DESTDIR)$(SHAREDIR)/
	for f in data/*; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(SHAREDIR)/; done; true
	for m in docs/*.5 docs/*.8; do \
		sed 's|/usr/local/share/smtpgate|$(SHAREDIR)|g' "$$m" \
			>$(DESTDIR)$(MANDIR)/man$${m##*.}/$$(basename "$$m") && \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$$(basename "$$m") || exit 1; \
	done
	install -m 644 docs/smtpgate.conf.example $(DESTDIR)$(SHAREDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/smtpgate/smtpgate.conf ] || \
		install -m 640 docs/smtpgate.conf.example $(DESTDIR)$(SYSCONFDIR)/smtpgate/smtpgate.conf
	for u in init/*.service; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' "$$u" \
			>$(DESTDIR)$(UNITDIR)/$$(basename "$$u") && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename "$$u") || exit 1; \
	done
	install -m 644 init/smtpgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/smtpgate.conf
	sed -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' init/smtpgate.tmpfiles \
		>$(DESTDIR)$(TMPFILESDIR)/smtpgate.conf
	chmod 644 $(DESTDIR)$(TMPFILESDIR)/smtpgate.conf
	if [ -z "$(DESTDIR)" ]; then \
		if command -v systemd-sysusers >/dev/null 2>&1; then \
			systemd-sysusers $(SYSUSERSDIR)/smtpgate.conf && \
			systemd-tmpfiles --create $(TMPFILESDIR)/smtpgate.conf || exit 1; \
		elif ! getent passwd smtpgate >/dev/null; then \
			useradd --system --user-group --home-dir /var/lib/smtpgate \
				--no-create-home --shell /usr/sbin/nologin smtpgate || exit 1; \
		fi; \
		install -d -m 750 -o smtpgate -g smtpgate /var/lib/smtpgate && \
		chgrp smtpgate $(SYSCONFDIR)/smtpgate/smtpgate.conf && \
		chmod 640 $(SYSCONFDIR)/smtpgate/smtpgate.conf; \
	fi

# install-check: install into a temporary root and check the tree and the
# units (tests/install/check.sh).
install-check: all
	tests/install/check.sh

# deb: the Debian package (debian/), built by dpkg-buildpackage -us -uc -b
# in a temporary copy of the tree (tools/mkdeb.sh): the work tree stays
# as it was, the .deb lands in $(BUILD)/deb/.
deb:
	tools/mkdeb.sh $(BUILD)/deb

# deb-check: build the package and an upgrade, lintian, then install,
# upgrade, remove and purge it on this machine (root; tests/pkg/check.sh,
# about two minutes; SMTPGATE_E2E_LOCK names a lock held while installed).
deb-check:
	tests/pkg/check.sh

clean:
	rm -rf build
