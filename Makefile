# esign: top-level build.  `make` builds the module the way Debian builds its

SHELL      := /bin/bash
# libnginx-mod-* packages; `make run` serves a development platform on
# https://127.0.0.1:8443; `make test` runs everything CI runs.

NGX_SRC    := /usr/share/nginx/src
NGINX      := /usr/sbin/nginx
SRC        := $(CURDIR)
B          ?= $(CURDIR)/build
BA         ?= $(CURDIR)/build-asan
LIBDIR     ?= build
MODULE     := ngx_http_esign_module.so

DEB_CFLAGS   = $(shell dpkg-buildflags --get CFLAGS) -fPIC \
               $(shell dpkg-buildflags --get CPPFLAGS)
DEB_LDFLAGS  = $(shell dpkg-buildflags --get LDFLAGS) -fPIC
ASAN_CFLAGS  = -g -O1 -fno-omit-frame-pointer -fsanitize=address -fPIC
ASAN_LDFLAGS = -fsanitize=address -fPIC

# Debian packages the build, the run and the tests need.
PKGS := nginx nginx-dev liblmdb-dev lmdb-utils libjansson-dev \
        libhiredis-dev libssl-dev redis-server libio-socket-ssl-perl \
        openssl dpkg-dev gcc make perl clang libclang-rt-14-dev

LIBS   := ledger ngx_esign_module/core ngx_esign_module/crypto
SOURCES = $(sort $(wildcard ngx_esign_module/ngx_esign_*.[ch]) config)

.PHONY: all deps module asan libs libs-asan tools run test unit unit-tools \
        integration integration-asan fuzz bench clean

all: deps module tools

# Installs what a fresh Debian 12 lacks; prints the command when not root.
deps:
	@missing=""; for p in $(PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	        grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing:$$missing"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	            apt-get install -y -qq --no-install-recommends $$missing \
	            >/dev/null || exit 1; \
	    else \
	        echo "missing packages; run: sudo apt-get install -y$$missing"; \
	        exit 1; \
	    fi; \
	fi

libs:
	@for d in $(LIBS); do $(MAKE) --no-print-directory -C $$d BUILD=$(LIBDIR) \
	    || exit 1; done

libs-asan:
	@for d in $(LIBS); do $(MAKE) --no-print-directory -C $$d \
	    BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="$(ASAN_LDFLAGS)" \
	    || exit 1; done

# Configure again whenever the set of module files or `config` changes,
# since nginx's configure bakes the source list into the Makefile.
define configure
	@mkdir -p $(1)
	@ls $(SOURCES) > $(1)/.sources.new
	@if ! cmp -s $(1)/.sources.new $(1)/.sources || \
	    [ ! -f $(1)/Makefile ] || [ config -nt $(1)/Makefile ]; then \
	    echo "configuring nginx module in $(1)"; \
	    cd $(NGX_SRC) && . ./conf_flags && ESIGN_LIBDIR=$(2) ./configure \
	        --with-cc-opt="$(3)" --with-ld-opt="$(4)" \
	        "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(SRC) \
	        --builddir=$(1) > $(1)/configure.log 2>&1 \
	        || { tail -20 $(1)/configure.log; exit 1; }; \
	fi
	@mv $(1)/.sources.new $(1)/.sources
endef

# nginx's Makefile links the module from its objects only: relink it when
# one of our static libraries changed since.
define relink
	@for a in $(foreach d,$(LIBS),$(wildcard $(d)/$(2)/lib*.a)); do \
	    if [ $$a -nt $(1)/$(MODULE) ]; then rm -f $(1)/$(MODULE); break; fi; \
	done
endef

module: libs admin-assets
	$(call configure,$(B),$(LIBDIR),$(DEB_CFLAGS),$(DEB_LDFLAGS))
	$(call relink,$(B),$(LIBDIR))
	@$(MAKE) --no-print-directory -f $(B)/Makefile -C $(NGX_SRC) modules
	@printf 'load_module %s/%s;\nevents {}\n' $(B) $(MODULE) > $(B)/smoke.conf
	@$(NGINX) -g 'error_log /dev/null; pid /dev/null;' -t -q -c $(B)/smoke.conf
	@echo "built $(B)/$(MODULE)"

asan: libs-asan admin-assets
	$(call configure,$(BA),build-asan,$(ASAN_CFLAGS),$(ASAN_LDFLAGS))
	$(call relink,$(BA),build-asan)
	@$(MAKE) --no-print-directory -f $(BA)/Makefile -C $(NGX_SRC) modules
	@echo "built $(BA)/$(MODULE)"

# The admin page is compiled into the module as a C table of files.
admin-assets:
	@sh tools/embed-admin-ui.sh admin-ui \
	    ngx_esign_module/ngx_esign_admin_assets.c

tools: libs
	@if [ -f tools/Makefile ]; then $(MAKE) --no-print-directory -C tools \
	    BUILD=$(B) LIBDIR=$(LIBDIR); fi

run: all
	@sh tools/dev-run.sh

unit: libs
	@for d in $(LIBS); do $(MAKE) --no-print-directory -C $$d BUILD=$(LIBDIR) \
	    test || exit 1; done
	@$(MAKE) --no-print-directory -C t/unit BUILD=$(B)/unit LIBDIR=$(LIBDIR) \
	    test

unit-tools: libs
	@$(MAKE) --no-print-directory -C t/unit BUILD=$(B)/unit LIBDIR=$(LIBDIR)

integration: module tools unit-tools
	ESIGN_MODULE_SO=$(B)/$(MODULE) prove -j2 -r t/

integration-asan: asan tools unit-tools
	ESIGN_MODULE_SO=$(BA)/$(MODULE) ESIGN_ASAN=1 prove -j2 -r t/

test: deps all unit integration integration-asan

fuzz: deps
	@$(MAKE) --no-print-directory -C ledger fuzz
	@for d in fuzz/core fuzz/crypto; do \
	    if [ -f $$d/Makefile ]; then $(MAKE) --no-print-directory -C $$d run \
	    || exit 1; fi; done

bench: all
	@$(MAKE) --no-print-directory -C ledger bench
	@sh bench/run.sh

clean:
	rm -rf $(B) $(BA)
	@for d in $(LIBS); do $(MAKE) --no-print-directory -C $$d clean \
	    BUILD=build; $(MAKE) --no-print-directory -C $$d clean \
	    BUILD=build-asan; done
