# jianbao — make site · make test · make bench · make install
.SUFFIXES:

PREFIX   ?= /usr/local

VERSION   = 0.1.0
PKGS      = libcmark-gfm lua5.4 libgit2 libpng pangocairo pangoft2 cairo-pdf yaml-0.1 zlib

WARNINGS  = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla \
            -Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter
# pkg-config runs once, after the dependencies are installed (lazy, cached).
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -pthread $(WARNINGS) $(CFLAGS) $(PKG_CFLAGS) -DJIANBAO_VERSION='"$(VERSION)"' -MMD -MP
ALL_LIBS   = $(PKG_LIBS) -lcmark-gfm-extensions -lcsv -lm -pthread
# mimalloc in place of malloc for the generator and its tests (not under
# the sanitizers of make fuzz, which bring their own)
ALLOC_LIBS = -lmimalloc

SRCS = $(wildcard generator/*.c)
OBJS = $(SRCS:generator/%.c=build/%.o)
LIB_OBJS = $(filter-out build/main.o,$(OBJS))

.PHONY: all site test bench install deps test-deps clean fuzz

all: jianbao

# Installs what pkg-config does not find (Debian packages, via apt-get).
deps:
	@pkg-config --exists $(PKGS) && test -f /usr/include/csv.h \
	  && test -f /usr/include/cmark-gfm-core-extensions.h && test -f /usr/include/mimalloc.h \
	  || scripts/install-deps build

test-deps: deps
	@scripts/install-deps test

build/%.o: generator/%.c | deps
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

jianbao: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(ALL_LIBS) $(ALLOC_LIBS)

site: jianbao
	./jianbao build --out public
	@echo "site: open public/index.html (or serve it: python3 -m http.server -d public)"

# Unit tests link the generator's modules; the rest drive the binary.
TEST_SRCS = $(wildcard tests/unit/*.c)
TEST_BINS = $(TEST_SRCS:tests/unit/%.c=build/tests/%)

# FreeType: the typeset test compares glyph outlines.
TEST_LIBS  = $(eval TEST_LIBS := $$(shell pkg-config --libs freetype2))$(TEST_LIBS)

build/tests/%: tests/unit/%.c tests/unit/harness.h $(LIB_OBJS) | deps
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Igenerator -o $@ $< $(LIB_OBJS) $(ALL_LIBS) $(TEST_LIBS) $(ALLOC_LIBS)

test: jianbao $(TEST_BINS) test-deps
	@tests/run $(TEST_BINS)

build/bench_charts: scripts/bench_charts.c $(LIB_OBJS) | deps
	$(CC) $(ALL_CFLAGS) -Igenerator -o $@ $< $(LIB_OBJS) $(ALL_LIBS)

bench: jianbao build/bench_charts
	@scripts/install-deps bench
	@scripts/bench

# libFuzzer targets for every parser (clang); FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/*.c))
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

build/fuzz/%: tests/fuzz/%.c $(filter-out generator/main.c,$(SRCS)) | deps
	@mkdir -p build/fuzz
	clang -std=c11 $(FUZZ_FLAGS) $(PKG_CFLAGS) -DJIANBAO_VERSION='"$(VERSION)"' -Igenerator -o $@ $< $(filter-out generator/main.c,$(SRCS)) $(ALL_LIBS)

fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$${t##*/}; \
	  echo "fuzz: $$t ($(FUZZ_SECONDS) s)"; \
	  LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp $$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus-$${t##*/} tests/fuzz/seeds >build/fuzz/$${t##*/}.log 2>&1 \
	    || { tail -40 build/fuzz/$${t##*/}.log; exit 1; }; \
	  tail -1 build/fuzz/$${t##*/}.log; \
	done

install: jianbao
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/jianbao
	install -m 755 jianbao $(DESTDIR)$(PREFIX)/bin/jianbao
	cp -R themes $(DESTDIR)$(PREFIX)/share/jianbao/

clean:
	rm -rf build jianbao public

-include $(OBJS:.o=.d)
