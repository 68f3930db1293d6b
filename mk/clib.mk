# Shared rules for the project's plain-C static libraries and their TAP tests.
# Include from a folder's Makefile after setting LIB (library name without
# "lib" and ".a").  Every *.c in the folder is part of the library; every
# t/test_*.c is a test program printing TAP.  BUILD and CFLAGS may be
# overridden (the ASan build passes its own).

TOP     := $(dir $(lastword $(MAKEFILE_LIST)))..
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -g -O2
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -I. -I$(TOP)/t/unit \
           $(EXTRA_INCS)
LDLIBS  += $(EXTRA_LIBS) -lcrypto

SRCS    := $(wildcard *.c)
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
TSRCS   := $(wildcard t/test_*.c)
TBINS   := $(TSRCS:t/%.c=$(BUILD)/t/%)

.PHONY: all test clean
all: $(BUILD)/lib$(LIB).a $(TBINS)

$(BUILD)/%.o: %.c $(wildcard *.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lib$(LIB).a: $(OBJS)
	rm -f $@
	ar rcs $@ $(OBJS)

$(BUILD)/t/%: t/%.c $(BUILD)/lib$(LIB).a $(TOP)/t/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/lib$(LIB).a $(EXTRA_ARCHIVES) \
	    $(LDFLAGS) $(LDLIBS)

test: all
	prove -f --exec '' $(TBINS)

clean:
	rm -rf $(BUILD)
