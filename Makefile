# xenguard — build, run, test.
#
#   make            build build/xenguard
#   make run        install build deps (apt-get), build, run the main job
#   make test       install test deps, build with ASan+UBSan, run every test
#   make unit       the cmocka tests only, a plain -O0 build in build/unit (no
#                   apt-get, no sanitizers: seconds once built)
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz/
#   make install    install binary, man pages, units, bash completion
#                   (PREFIX=/usr/local, DESTDIR=); make uninstall removes them
#
# Sources are found by wildcard: a new .c under src/ joins the library, a new
# tests/unit/test_*.c becomes a test binary, a new tests/fuzz/fuzz_*.c a
# fuzz target. No list to edit.

VERSION  := $(shell cat VERSION)
PKGS     := libnftables jansson openssl libxml-2.0
CC       ?= cc
OPT      ?= -O2 -g
BUILD    ?= build
SAN      ?=

# Debian packages: what builds xenguard, and what its tests additionally need.
BUILD_DEPS := build-essential pkg-config libnftables-dev libjansson-dev libssl-dev libxml2-dev
TEST_DEPS  := $(BUILD_DEPS) libcmocka-dev clang libclang-rt-14-dev nftables iptables iproute2 \
              kmod procps python3 openssh-client openssh-server socat openssl bc libxml2-utils \
              ansible-core util-linux prometheus man-db python3-jsonschema

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ifeq ($(SAN),1)
  OPT := -O1 -g $(SAN_FLAGS)
endif

CPPFLAGS += -Isrc -D_GNU_SOURCE -DXG_VERSION='"$(VERSION)"'
CFLAGS   += -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers $(OPT) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

LIB_SRC  := $(shell find src -name '*.c' ! -path src/main.c | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/lib/%.o)
FUZZ_LIB := build/fuzz/lib/libxenguard-fuzz.a

.PHONY: all run test unit unit-tests check-tests fuzz deps test-deps install uninstall clean format

all: $(BUILD)/xenguard

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libxenguard.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/xenguard: $(BUILD)/src/main.o $(BUILD)/libxenguard.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Every cmocka binary links tests/unit/filter.c: CMOCKA_TEST_FILTER picks cases.
$(BUILD)/tests/filter.o: tests/unit/filter.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(UNIT_BIN): $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libxenguard.a $(BUILD)/tests/filter.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(BUILD)/tests/filter.o \
	  $(BUILD)/libxenguard.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# libFuzzer targets: the library compiled once with clang, instrumented for
# coverage (fuzzer-no-link) and ASan+UBSan, into one archive each target links.
FUZZ_CFLAGS := -std=c17 -g -O1 $(CPPFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

build/fuzz/lib/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BIN): build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP -o $@ $< $(FUZZ_LIB) $(LDLIBS)

fuzz: $(FUZZ_BIN)

deps:
	@scripts/ensure-deps $(BUILD_DEPS)

test-deps:
	@scripts/ensure-deps $(TEST_DEPS)

run: deps
	@$(MAKE) --no-print-directory all
	@# the audit exits 1 when it finds something: a result, not a build failure
	$(BUILD)/xenguard audit || test $$? = 1

# Everything under ASan+UBSan in build/asan; tests/run prints the summary line.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: test-deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan SAN=1 check-tests
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz
	@$(MAKE) --no-print-directory -j$(JOBS) all
	tests/run build/asan

check-tests: $(BUILD)/xenguard $(UNIT_BIN) $(TOOL_BIN)

# The unit suites alone: a plain, unoptimised build (no sanitizer rebuild, no
# apt-get), then tests/run on them. Pick cases with T=SUITE[:PATTERN], e.g.
# `make unit T=test_policy:test_bad_*`.
unit:
	@$(MAKE) --no-print-directory BUILD=build/unit OPT='-O0 -g' unit-tests
	tests/run build/unit 'unit$(if $(T),/$(T))'

unit-tests: $(UNIT_BIN)

PREFIX  ?= /usr/local
# Every path below follows PREFIX; the units and the scheduled-audit script get
# theirs by sed at install time (@SBINDIR@, @LIBEXECDIR@). Both lib dirs are on
# systemd's search path; bash-completion looks in PREFIX/share through XDG_DATA_DIRS.
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec/xenguard
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/xenguard
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSCTLDIR   ?= $(PREFIX)/lib/sysctl.d
STATEDIR    ?= /var/lib/xenguard
# Xen's hotplug scripts (vif-bridge, ...): vif-xenguard goes beside them.
XENSCRIPTDIR ?= /etc/xen/scripts
# A verb's page is doc/xenguard-VERB.8 (a one-line .so where another page
# documents it): a new page is installed without editing this list.
MAN8     := $(sort $(wildcard doc/xenguard*.8))
MAN5     := doc/xenguard.conf.5
EXAMPLES := $(sort $(wildcard examples/*.conf))
UNITS    := xenguard.service xenguard-tunneld.service xenguard-audit.service xenguard-audit.timer
SUBST    := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'
# What install writes, one path a line: uninstall removes exactly these.
INSTALLED = $(SBINDIR)/xenguard $(LIBEXECDIR)/xenguard-scheduled-audit \
            $(MAN8:doc/%=$(MANDIR)/man8/%) $(MAN5:doc/%=$(MANDIR)/man5/%) \
            $(EXAMPLES:examples/%=$(DOCDIR)/examples/%) $(BASHCOMPDIR)/xenguard \
            $(UNITS:%=$(UNITDIR)/%) $(SYSCTLDIR)/99-xenguard.conf $(XENSCRIPTDIR)/vif-xenguard

install: all
	install -D -m 0755 $(BUILD)/xenguard $(DESTDIR)$(SBINDIR)/xenguard
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/examples \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCTLDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 completion/xenguard.bash $(DESTDIR)$(BASHCOMPDIR)/xenguard
	install -D -m 0755 scripts/vif-xenguard $(DESTDIR)$(XENSCRIPTDIR)/vif-xenguard
	for u in $(UNITS); do $(SUBST) systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(SUBST) systemd/xenguard-scheduled-audit > $(DESTDIR)$(LIBEXECDIR)/xenguard-scheduled-audit
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/xenguard-scheduled-audit
	install -m 0644 systemd/99-xenguard.conf $(DESTDIR)$(SYSCTLDIR)/99-xenguard.conf
	install -d -m 0700 $(DESTDIR)$(STATEDIR)

# The files install wrote, then the directories it made, each with its parents
# up to PREFIX (XENSCRIPTDIR: up to /), while they are empty (the state dir keeps confirmed rulesets and
# audit reports: it goes only when empty).
INSTALL_DIRS = $(LIBEXECDIR) $(DOCDIR)/examples $(MANDIR)/man8 $(MANDIR)/man5 $(BASHCOMPDIR) \
               $(UNITDIR) $(SYSCTLDIR) $(SBINDIR) $(XENSCRIPTDIR)
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(STATEDIR) 2>/dev/null
	@for d in $(INSTALL_DIRS); do \
	  while [ "$$d" != "$(PREFIX)" ] && [ "$$d" != / ] && rmdir "$(DESTDIR)$$d" 2>/dev/null; do \
	    d=$$(dirname "$$d"); done; done

format:
	clang-format -i $$(find src tests bench -name '*.[ch]')

clean:
	rm -rf build

# (build/xen holds the unpacked Dom0 image of tests/xen, whose etc/*.d are not ours)
-include $(shell find build -path build/xen -prune -o -name '*.d' -type f -print 2>/dev/null)
