# zhicheng - build, run and test. `make run` and `make check` are the two commands a
# newcomer needs; see README.md.

PKGS      := libwebsockets sqlite3 libgit2 openssl jansson libargon2 pangocairo fontconfig libqrencode libcurl
CC        ?= gcc
CFLAGS    ?= -O2 -g
BASEFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Inode -Ifederation -pthread
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS     = $(PKG_LIBS) -lunistring -pthread

# Debian packages the build, the demo and the tests need (make deps installs the missing).
DEB_PKGS := build-essential pkg-config libwebsockets-dev libsqlite3-dev libgit2-dev \
            libssl-dev libjansson-dev libargon2-dev libunistring-dev libcmocka-dev sqlite3 openssl git \
            python3 wrk nodejs npm chromium fonts-wqy-microhei cppcheck procps curl \
            libpango1.0-dev libcairo2-dev libfontconfig-dev libqrencode-dev poppler-utils \
            libcurl4-openssl-dev python3-aiosmtpd zbar-tools fonts-ukij-uyghur

# Variant: normal build in build/, sanitizer build in build/asan/ (make asan).
BUILD  ?= build
BIN    ?= bin
SANFLAGS ?=

FED_SRC   := $(wildcard federation/*.c)
NODE_SRC  := $(filter-out node/main.c,$(wildcard node/*.c))
ADMIN_SRC := $(wildcard tools/zc-admin/*.c)
TEST_SRC  := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBFED  := $(BUILD)/libzcfed.a
LIBNODE := $(BUILD)/libzcnode.a
TESTS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))


.PHONY: all deps run stop check test unit asan asan-bin integration browser bench lint clean web
all: $(BIN)/zc-node $(BIN)/zc-admin $(BIN)/zc-audit web

# The portal as the node serves it (build/web, whatever the variant): hashed names, module
# preloads and .gz files made by tools/build_web.py from web/ (README "The portal's files").
WEB_SRC := $(shell find web -type f 2>/dev/null)
web: build/web/index.html
build/web/index.html: tools/build_web.py $(WEB_SRC)
	@python3 tools/build_web.py web build/web

$(BUILD)/%.o: %.c $(wildcard node/*.h federation/*.h tools/zc-admin/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIBFED): $(call obj,$(FED_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(LIBNODE): $(call obj,$(NODE_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^

$(BIN)/zc-node: $(call obj,node/main.c) $(LIBNODE) $(LIBFED)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/zc-admin: $(call obj,$(ADMIN_SRC)) $(LIBNODE) $(LIBFED)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/zc-audit: $(call obj,tools/zc-audit.c) $(LIBFED)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBNODE) $(LIBFED)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@tools/deps.sh $(DEB_PKGS)

# The unit tests (cmocka), each binary in turn.
unit: $(TESTS)
	@tools/run-unit.sh $(TESTS)

# The same unit tests, and the node the integration tests start, built with ASan+UBSan.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin SANFLAGS="$(ASAN_FLAGS)" CFLAGS=
asan:
	@$(ASAN_MAKE) unit
# The sanitizer build of the binaries, which integration-asan runs the integration tests on.
asan-bin:
	@$(ASAN_MAKE) build/asan/bin/zc-node build/asan/bin/zc-admin

integration: all
	@python3 tests/integration/run.py

browser: all
	@tests/browser/run.sh

lint:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	  --suppress=missingIncludeSystem --inline-suppr --library=tools/cppcheck/jansson.cfg -Inode -Ifederation node federation tools tests/unit

run: deps all
	@tools/demo.sh up

stop:
	@tools/demo.sh down

check: deps all
	@tools/check.sh

bench: deps all
	@tools/bench/run.sh

clean:
	rm -rf build bin

# test_audit runs the zc-audit of its own build on a directory it makes.
$(BUILD)/tests/unit/test_audit.o: BASEFLAGS += -DZC_AUDIT_BIN='"$(BIN)/zc-audit"'
$(BUILD)/tests/test_audit: | $(BIN)/zc-audit
