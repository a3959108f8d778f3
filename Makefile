# SPDX-License-Identifier: GPL-2.0
#
# Top-level build of the /dev/iommu module, its selftests and tools.
#
#   make            module (test and release builds), selftests, tools and
#                   the ABI check, for KVER (default: the pinned 6.12 kernel)
#   make check      all of that for both pinned kernels, then every suite
#                   in a QEMU guest on each, the real-device suites (edu
#                   through VFIO behind an emulated IOMMU), the runner's
#                   own check, then the Debian packages from build to
#                   purge (as root)
#   make check-vfio only the real-device suites of make check
#   make deb        the Debian packages, in build/deb/
#   make install    the release module and the tools (make uninstall)
#   make run        boot the VM with the module, run the demo, then a shell
#   make lint       checkpatch --strict on our sources, and the one-way
#                   layers of the module and tools (builds their objects)
#   make fuzz       the fuzzer in the VM for FUZZ_SECONDS (default 300)
#   make clean
#
# KVER=<version> and KDIR=<kernel build dir> select another kernel.

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build
include $(ROOT)/tools/versions.mk

KVER ?= $(KVER_612)
KDIR ?= /lib/modules/$(KVER)/build
KVERS_CHECK := $(KVER_612) $(KVER_61)

LINUX_SRC := $(BUILD)/linux-source
LINUX_SRC_STAMP := $(LINUX_SRC)/.extracted
KSFT_DIR := $(LINUX_SRC)/tools/testing/selftests
CHECKPATCH := $(LINUX_SRC)/scripts/checkpatch.pl

# The version modinfo, the packages and make install carry
# (tools/pkg/version.sh: from git describe, or .tarball-version).
IOMMUFD_OOT_VERSION := $(shell $(ROOT)/tools/pkg/version.sh)

MODULE_SRCS := $(wildcard $(ROOT)/iommufd/*.c $(ROOT)/iommufd/*.h) \
	       $(ROOT)/iommufd/Kbuild $(ROOT)/uapi/linux/iommufd.h

SELFTEST_SRCS := $(wildcard $(ROOT)/selftests/iommu/*.c)
SELFTEST_BINS := $(patsubst $(ROOT)/selftests/iommu/%.c,$(BUILD)/selftests/%,\
		   $(SELFTEST_SRCS))
USER_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter \
	       -Wno-missing-field-initializers -Wno-sign-compare -Wno-clobbered -static -pthread

Q := $(if $(V),,@)

.PHONY: all deps modules modules-all selftests tools abi check check-vm bench \
	check-vfio \
	fuzz \
	check-debug \
	runner-check run lint lint-layers lint-selftest clean linux-source

all: deps modules selftests tools abi

# NO_DEPS=1: install nothing (make install on a machine that has what it
# needs, or is not Debian).
deps:
	$(Q)$(if $(NO_DEPS),:,$(ROOT)/tools/deps.sh)

# --- Debian's linux-source-6.12: kselftest harness, checkpatch, and the
# upstream test header for the ABI check. Extracted, never committed.
linux-source: $(LINUX_SRC_STAMP)
$(LINUX_SRC_STAMP): | deps
	$(Q)rm -rf $(LINUX_SRC) && mkdir -p $(LINUX_SRC)
	$(Q)tar -xJf /usr/src/$(LINUX_SOURCE_PKG).tar.xz -C $(LINUX_SRC) \
		--strip-components=1 \
		$(LINUX_SOURCE_PKG)/tools/testing/selftests/kselftest.h \
		$(LINUX_SOURCE_PKG)/tools/testing/selftests/kselftest_harness.h \
		$(LINUX_SOURCE_PKG)/scripts/checkpatch.pl \
		$(LINUX_SOURCE_PKG)/scripts/spelling.txt \
		$(LINUX_SOURCE_PKG)/scripts/const_structs.checkpatch \
		$(LINUX_SOURCE_PKG)/drivers/iommu/iommufd/iommufd_test.h
	$(Q)touch $@

# --- The module. kbuild builds in the directory it is given, so each
# (kernel, variant) pair gets its own directory of links to the sources.
# The two builds are two modules: the release one is iommufd_oot.ko, the
# test one iommufd_oot_test.ko (iommufd/Kbuild), so that one can never be
# loaded for the other; modinfo's "build" field names each.
MOD_NAME_release := iommufd_oot
MOD_NAME_test := iommufd_oot_test
# $(1) = kernel version, $(2) = test|release
mod_ko = $(BUILD)/mod/$(1)/$(2)/$(MOD_NAME_$(2)).ko
# The VFIO backend is built with its core: $(MOD_NAME_$(2))_vfio.ko, next
# to it. Its check of VFIO's private struct needs that kernel's layout,
# taken from the BTF of its vfio.ko (tools/vfio-btf.sh; needs pahole).
vfio_btf_h = $(BUILD)/btf/$(1)/vfio_ops_btf.h
define vfio_btf_rule
$(call vfio_btf_h,$(1)): $(ROOT)/tools/vfio-btf.sh | deps
	$(Q)$(ROOT)/tools/vfio-btf.sh $(1) \
		$(if $(filter $(KVER),$(1)),$(KDIR),/lib/modules/$(1)/build) \
		$$@ $(BUILD)/btf/$(1)
endef
$(foreach k,$(sort $(KVER) $(KVERS_CHECK)),$(eval $(call vfio_btf_rule,$(k))))
define module_rule
$(call mod_ko,$(1),$(2)): $(MODULE_SRCS) $(call vfio_btf_h,$(1)) | deps
	$(Q)mkdir -p $(BUILD)/mod/$(1)/$(2)/iommufd
	$(Q)ln -sfn $(ROOT)/uapi $(BUILD)/mod/$(1)/$(2)/uapi
	$(Q)for f in $(ROOT)/iommufd/*; do \
		ln -sf $$$$f $(BUILD)/mod/$(1)/$(2)/iommufd/; done
	$(Q)ln -sf $(call vfio_btf_h,$(1)) $(BUILD)/mod/$(1)/$(2)/iommufd/
	$(Q)$(MAKE) -C $(if $(filter $(KVER),$(1)),$(KDIR),/lib/modules/$(1)/build) \
		M=$(BUILD)/mod/$(1)/$(2)/iommufd \
		$(if $(filter test,$(2)),CONFIG_IOMMUFD_OOT_TEST=y) \
		IOMMUFD_OOT_VERSION='$(IOMMUFD_OOT_VERSION)' W=1 modules
	$(Q)rm -f $(BUILD)/mod/$(1)/$(2)/*.ko
	$(Q)v=$(BUILD)/mod/$(1)/$(2)/iommufd/$(MOD_NAME_$(2))_vfio.ko; \
		if [ -f "$$$$v" ]; then cp "$$$$v" $(BUILD)/mod/$(1)/$(2)/; fi
	$(Q)cp $(BUILD)/mod/$(1)/$(2)/iommufd/$(MOD_NAME_$(2)).ko $$@
endef
$(foreach k,$(sort $(KVER) $(KVERS_CHECK)),\
	$(foreach v,test release,$(eval $(call module_rule,$(k),$(v)))))

# Stand-ins for the in-tree iommufd, for iommufd_fd's tests in the VM
# (tools/vm/intree_iommufd.c): iommufd.ko (its export and /dev/iommu)
# and iommu_holder.ko (/dev/iommu only), built per kernel.
standin_dir = $(BUILD)/tools/standin/$(1)
define standin_rule
$(call standin_dir,$(1))/iommufd.ko: $(ROOT)/tools/vm/intree_iommufd.c | deps
	$(Q)mkdir -p $(call standin_dir,$(1))
	$(Q)ln -sf $(ROOT)/tools/vm/intree_iommufd.c $(call standin_dir,$(1))/
	$(Q)ln -sf $(ROOT)/tools/vm/intree_iommufd.c \
		$(call standin_dir,$(1))/intree_holder.c
	$(Q)printf '%s\n' 'obj-m := iommufd.o iommu_holder.o' \
		'iommufd-y := intree_iommufd.o' \
		'iommu_holder-y := intree_holder.o' \
		'CFLAGS_intree_holder.o := -DSTANDIN_MISC_ONLY' \
		> $(call standin_dir,$(1))/Kbuild
	$(Q)$(MAKE) -C $(if $(filter $(KVER),$(1)),$(KDIR),/lib/modules/$(1)/build) \
		M=$(call standin_dir,$(1)) modules
endef
$(foreach k,$(sort $(KVER) $(KVERS_CHECK)),$(eval $(call standin_rule,$(k))))

# test_mdev.ko, per kernel: an emulated (mdev) VFIO device for the
# real-device boots' mdev suite (tools/vm/test_mdev.c); run-vm.sh packs
# it with that kernel's mdev.ko.
test_mdev_ko = $(BUILD)/mod/$(1)/test_mdev/test_mdev.ko
define test_mdev_rule
$(call test_mdev_ko,$(1)): $(ROOT)/tools/vm/test_mdev.c \
		$(ROOT)/tools/vm/test_mdev.h | deps
	$(Q)mkdir -p $$(dir $$@)
	$(Q)ln -sf $(ROOT)/tools/vm/test_mdev.c $(ROOT)/tools/vm/test_mdev.h \
		$$(dir $$@)
	$(Q)echo 'obj-m := test_mdev.o' > $$(dir $$@)/Kbuild
	$(Q)$(MAKE) -C $(if $(filter $(KVER),$(1)),$(KDIR),/lib/modules/$(1)/build) \
		M=$$(dir $$@) W=1 modules
endef
$(foreach k,$(sort $(KVER) $(KVERS_CHECK)),$(eval $(call test_mdev_rule,$(k))))

modules: $(call mod_ko,$(KVER),test) $(call mod_ko,$(KVER),release) \
	 $(call standin_dir,$(KVER))/iommufd.ko $(call test_mdev_ko,$(KVER))
modules-all: $(foreach k,$(KVERS_CHECK),$(foreach v,test release,\
	 $(call mod_ko,$(k),$(v))) $(call standin_dir,$(k))/iommufd.ko \
	 $(call test_mdev_ko,$(k)))

# --- Userspace: selftests on the kselftest harness, and tools.
selftests: $(SELFTEST_BINS)
$(BUILD)/selftests/%: $(ROOT)/selftests/iommu/%.c \
		$(wildcard $(ROOT)/selftests/iommu/*.h) \
		$(ROOT)/uapi/linux/iommufd.h $(ROOT)/iommufd/iommufd_test.h \
		$(LINUX_SRC_STAMP)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -I$(KSFT_DIR) -o $@ $< -luring

# iommufd_vfio_link is iommufd_vfio_edu.c's link fixture, run alone.
$(BUILD)/selftests/iommufd_vfio_link: $(ROOT)/selftests/iommu/iommufd_vfio_edu.c

tools: $(BUILD)/tools/bin/iommufd_fuzz $(BUILD)/selftests/iommufd_fuzz_bounded \
	$(BUILD)/tools/runner_warn/runner_warn.ko $(BUILD)/tools/selfcheck_fail \
	$(BUILD)/tools/bin/iommufdctl $(BUILD)/tools/bin/iommufdctl-json-check \
	$(BUILD)/tools/bin/iommufdctl-pty $(BUILD)/selftests/iommufdctl_cli \
	$(BUILD)/selftests/iommufdctl_vfio

# libiommufd (tools/lib/): one function per command, a static library for
# iommufdctl and whatever else drives /dev/iommu from C.
UAPI_HDRS := $(ROOT)/uapi/linux/iommufd.h $(ROOT)/iommufd/iommufd_test.h
# Its io_uring functions are an object of their own, so that programs
# that do not call them need no -luring.
LIB_DIR := $(ROOT)/tools/lib
LIB_OBJS := $(BUILD)/tools/lib/libiommufd.o $(BUILD)/tools/lib/libiommufd_uring.o
$(BUILD)/tools/lib/%.o: $(LIB_DIR)/%.c $(LIB_DIR)/libiommufd.h $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -c -o $@ $<
$(BUILD)/tools/lib/libiommufd.a: $(LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# iommufdctl, the session tool; run-vm.sh copies tools/bin/* into the VM's
# /tools, which is on PATH there. Its prompt edits lines and keeps history
# with libedit's readline interface, linked statically (LINE_EDIT=0: a plain
# prompt). libedit is BSD-licensed; GNU readline (GPL-3.0+) could not be
# linked into this GPL-2.0 program.
LINE_EDIT ?= 1
# libedit's ~user expansion and default history file call these, which a
# static glibc can run only with NSS; iommufdctl uses neither and links
# them to stubs (main.c), so the linker has nothing to warn about.
CTL_WRAP := getpwent getpwuid getpwnam_r getpwuid_r setpwent endpwent
comma := ,
CTL_DIR := $(ROOT)/tools/iommufdctl
CTL_SRCS := $(wildcard $(CTL_DIR)/*.c)
# One object per source file: make lint reads the layers from them.
CTL_OBJS := $(patsubst $(CTL_DIR)/%.c,$(BUILD)/tools/iommufdctl/%.o,$(CTL_SRCS))
$(BUILD)/tools/iommufdctl/%.o: $(CTL_DIR)/%.c $(wildcard $(CTL_DIR)/*.h) \
		$(LIB_DIR)/libiommufd.h $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) $(if $(filter 1,$(LINE_EDIT)),-DHAVE_READLINE) \
		-c -o $@ $<
$(BUILD)/tools/bin/iommufdctl: $(CTL_OBJS) $(BUILD)/tools/lib/libiommufd.a
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $(CTL_OBJS) \
		$(BUILD)/tools/lib/libiommufd.a -luring \
		$(if $(filter 1,$(LINE_EDIT)),-ledit -lbsd -lmd -ltinfo \
		$(foreach f,$(CTL_WRAP),-Wl$(comma)--wrap=$(f)))

# Its test suite: the runner with every case appended, so that one file in
# selftests/ (each file there is a suite in the VM) carries them all.
CTL_CASES := $(sort $(wildcard $(CTL_DIR)/tests/*.cmds $(CTL_DIR)/tests/*.expected))
$(BUILD)/selftests/iommufdctl_cli: $(CTL_DIR)/tests/run.sh $(CTL_CASES)
	$(Q)mkdir -p $(dir $@)
	$(Q){ cat $<; echo '#__CASES__'; for f in $(CTL_CASES); do \
		echo "#__FILE__ $$(basename $$f)"; cat $$f; done; } > $@
	$(Q)chmod +x $@

# Its real-device cases (edu behind an emulated IOMMU, bound to vfio-pci):
# the same runner, a suite of their own that only the --iommu boots run.
CTL_VFIO_CASES := $(sort $(wildcard $(CTL_DIR)/tests/vfio/*.cmds \
		    $(CTL_DIR)/tests/vfio/*.expected))
$(BUILD)/selftests/iommufdctl_vfio: $(CTL_DIR)/tests/run.sh $(CTL_VFIO_CASES)
	$(Q)mkdir -p $(dir $@)
	$(Q){ cat $<; echo '#__CASES__'; for f in $(CTL_VFIO_CASES); do \
		echo "#__FILE__ $$(basename $$f)"; cat $$f; done; } > $@
	$(Q)chmod +x $@

# Its helpers in the VM: a JSON checker, and a terminal to type at.
$(BUILD)/tools/bin/iommufdctl-json-check: $(CTL_DIR)/tests/json_check.c
$(BUILD)/tools/bin/iommufdctl-pty: $(CTL_DIR)/tests/pty_run.c
$(BUILD)/tools/bin/iommufdctl-json-check $(BUILD)/tools/bin/iommufdctl-pty:
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

# A kselftest with a failing assertion, for the runner's own check.
$(BUILD)/tools/selfcheck_fail: $(ROOT)/tools/vm/selfcheck_fail.c $(LINUX_SRC_STAMP)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -I$(KSFT_DIR) -o $@ $<

# A module whose only job is to WARN when loaded: the runner's own check
# proves that a kernel warning in the guest fails the run.
$(BUILD)/tools/runner_warn/runner_warn.ko: $(ROOT)/tools/vm/runner_warn.c | deps
	$(Q)mkdir -p $(dir $@)
	$(Q)ln -sf $(ROOT)/tools/vm/runner_warn.c $(dir $@)
	$(Q)echo 'obj-m := runner_warn.o' > $(dir $@)/Kbuild
	$(Q)$(MAKE) -C $(KDIR) M=$(dir $@) modules

abi: $(LINUX_SRC_STAMP)
	$(Q)$(ROOT)/tools/abi/abi-check.sh $(BUILD)/abi

# --- The VM.
VM := $(ROOT)/tools/vm/run-vm.sh

check: all modules-all
	$(Q)$(ROOT)/tools/vm/check.sh $(KVERS_CHECK)

# The boots make check adds for the real-device suites, on their own.
check-vfio: all modules-all
	$(Q)$(ROOT)/tools/vm/check.sh --real-devices $(KVERS_CHECK)

run: all
	$(Q)$(VM) --kver $(KVER) --mode run

runner-check: all
	$(Q)$(ROOT)/tools/vm/runner-selfcheck.sh $(KVER)

# --- Style.
LINT_FILES := $(wildcard $(ROOT)/iommufd/*.[ch] $(ROOT)/uapi/linux/*.h \
		$(ROOT)/selftests/iommu/*.[ch] $(ROOT)/tools/vm/*.c \
		$(ROOT)/tools/lib/*.[ch] $(CTL_DIR)/*.[ch] $(CTL_DIR)/tests/*.c \
		$(ROOT)/tools/fuzz/*.c \
		$(ROOT)/tools/bench/*.[ch])
# compat.h exists to hold the kernel-version checks checkpatch warns about;
# it is checked with exactly those two warnings off, everything else on.
COMPAT_H := $(ROOT)/iommufd/compat.h
lint: $(LINUX_SRC_STAMP)
	$(Q)$(CHECKPATCH) --no-tree --strict --quiet --show-types \
		--ignore FILE_PATH_CHANGES \
		-f $(filter-out $(COMPAT_H),$(LINT_FILES))
	$(Q)$(CHECKPATCH) --no-tree --strict --quiet --show-types \
		--ignore FILE_PATH_CHANGES,LINUX_VERSION_CODE,CONSTANT_COMPARISON \
		-f $(COMPAT_H)
	$(Q)echo "lint: clean ($(words $(LINT_FILES)) files)"
	$(Q)$(MAKE) --no-print-directory lint-selftest lint-layers

# One-way layers, read from the objects (tools/lint/layers.py): the
# module's test and release builds and the tools, each against its LAYERS
# file, and the drawings of the layers in the documentation. Every check
# runs; the target fails if one did.
LAYERS_CHECK := $(ROOT)/tools/lint/layers.py check
# The objects of a module build ($(1) = test|release) whose source is in
# iommufd/ (not the linked module, nor what a removed source left).
mod_objs = $(wildcard $(patsubst $(ROOT)/iommufd/%.c,\
	   $(BUILD)/mod/$(KVER)/$(1)/iommufd/%.o,$(wildcard $(ROOT)/iommufd/*.c)))
MOD_LAYERS_ARGS := --srcdir $(ROOT)/iommufd \
	--doc $(ROOT)/Documentation/object-model.rst $(ROOT)/iommufd/LAYERS
lint-layers: modules $(CTL_OBJS) $(LIB_OBJS)
	$(Q)rc=0; \
	$(LAYERS_CHECK) --name iommufdctl --srcdir $(CTL_DIR) \
		--doc $(ROOT)/Documentation/iommufdctl.rst \
		$(CTL_DIR)/LAYERS $(CTL_OBJS) || rc=1; \
	$(LAYERS_CHECK) --name libiommufd --srcdir $(LIB_DIR) \
		$(LIB_DIR)/LAYERS $(LIB_OBJS) || rc=1; \
	$(LAYERS_CHECK) --name "module (test build)" $(MOD_LAYERS_ARGS) \
		$(call mod_objs,test) || rc=1; \
	$(LAYERS_CHECK) --name "module (release build)" $(MOD_LAYERS_ARGS) \
		$(call mod_objs,release) || rc=1; \
	exit $$rc

# The layer check's own test: crafted objects it must pass or fail.
lint-selftest:
	$(Q)$(ROOT)/tools/lint/layers_selftest.py

clean:
	$(Q)rm -rf $(BUILD)

# --- Benchmarks (make bench): run in the VM against the test build.
$(BUILD)/tools/bin/iommufd_bench: $(ROOT)/tools/bench/iommufd_bench.c $(ROOT)/tools/bench/bench.h \
		$(BUILD)/tools/lib/libiommufd.a $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $< $(BUILD)/tools/lib/libiommufd.a

$(BUILD)/tools/bin/iommufd_ops_bench: $(ROOT)/tools/bench/ops_bench.c $(ROOT)/tools/bench/bench.h \
		$(BUILD)/tools/lib/libiommufd.a $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $< $(BUILD)/tools/lib/libiommufd.a -luring

$(BUILD)/tools/bin/iommufd_backend_bench: $(ROOT)/tools/bench/backend_bench.c $(ROOT)/tools/bench/bench.h \
		$(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

$(BUILD)/tools/bin/iommufd_dirty_bench: $(ROOT)/tools/bench/dirty_bench.c $(ROOT)/tools/bench/bench.h \
		$(UAPI_HDRS) $(ROOT)/iommufd/iommufd_test.h
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

bench: all $(BUILD)/tools/bin/iommufd_bench $(BUILD)/tools/bin/iommufd_ops_bench \
		$(BUILD)/tools/bin/iommufd_backend_bench \
		$(BUILD)/tools/bin/iommufd_dirty_bench
	$(Q)$(VM) --kver $(KVER) --mode bench --timeout 1800

# --- make check-debug: every suite on Debian's 6.12 source built with
# lockdep, KASAN, kmemleak and DEBUG_ATOMIC_SLEEP (built once, cached in
# build/debug-kernel/; the first build takes a long time on two cores).
check-debug: all
	$(Q)$(ROOT)/tools/debug-kernel.sh > $(BUILD)/debug-kernel.env
	$(Q). $(BUILD)/debug-kernel.env && \
		$(MAKE) --no-print-directory KVER=$$KVER KDIR=$$KDIR modules && \
		$(VM) --kver $$KVER --kernel $$KDIR/arch/x86/boot/bzImage \
			--mode check --label debug --timeout 5400

# --- The fuzzer (tools/fuzz). make check runs iommufd_fuzz_bounded, a
# suite that replays the seeds of regressions.txt, appended to it here,
# then fuzzes a fresh seed for 15 s; make fuzz does the same in its own VM
# for FUZZ_SECONDS.
FUZZ_DIR := $(ROOT)/tools/fuzz
FUZZ_SECONDS ?= 300
$(BUILD)/tools/bin/iommufd_fuzz: $(FUZZ_DIR)/iommufd_fuzz.c $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $< -luring
$(BUILD)/selftests/iommufd_fuzz_bounded: $(FUZZ_DIR)/bounded.sh \
		$(FUZZ_DIR)/regressions.txt
	$(Q)mkdir -p $(dir $@)
	$(Q){ cat $<; echo '#__SEEDS__'; \
		sed -e 's/#.*//' -e '/^[[:space:]]*$$/d' $(FUZZ_DIR)/regressions.txt; } > $@
	$(Q)chmod +x $@

fuzz: all $(BUILD)/tools/bin/iommufd_fuzz $(BUILD)/selftests/iommufd_fuzz_bounded
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) $(VM) --kver $(KVER) --mode fuzz \
		--label fuzz --timeout $$(($(FUZZ_SECONDS) + 300))

# --- Installation and Debian packages (Documentation/install.rst):
# make install, make uninstall, make deb. Kept apart from the development
# rules above, which link the tools statically for the VM: what is
# installed links libiommufd.so and takes its packager's build flags
# (CFLAGS, CPPFLAGS, LDFLAGS, as dpkg-buildflags sets them).
.PHONY: install uninstall install-module uninstall-module install-tools \
	uninstall-tools tools-shared dkms-conf dkms-src deb

PKG := $(BUILD)/pkg
PKG_DIR := $(ROOT)/tools/pkg
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# The system's udev and modprobe configuration: /etc for make install;
# the Debian package ships the udev rule in /lib/udev/rules.d.
UDEVRULESDIR ?= /etc/udev/rules.d
MODPROBEDIR ?= /etc/modprobe.d

# The modules of a release build, by name: make uninstall removes them,
# dkms.conf lists them (one BUILT_MODULE_NAME each): the core and the
# VFIO backend (iommufd/Kbuild). tools/pkg/check.sh fails while the list
# and kbuild's modules.order of the release build disagree.
RELEASE_MODULES := iommufd_oot iommufd_oot_vfio

# libiommufd.so.$(LIB_SOVERSION) is the SONAME, and libiommufd0 the
# package: the number changes only when a function or a struct that
# libiommufd.h exposes changes incompatibly.
LIB_SOVERSION := 0
LIB_VERSION := $(LIB_SOVERSION).1.0
LIB_SO := $(PKG)/lib/libiommufd.so.$(LIB_VERSION)
PKG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	     -Wno-sign-compare -pthread $(or $(CFLAGS),-O2 -g) $(CPPFLAGS)
PKG_LDFLAGS = -Wl,--as-needed -Wl,--no-undefined $(LDFLAGS)

tools-shared: $(LIB_SO) $(PKG)/bin/iommufdctl $(PKG)/man/iommufdctl.1

$(PKG)/lib/%.o: $(LIB_DIR)/%.c $(LIB_DIR)/libiommufd.h $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PKG_CFLAGS) -fPIC -c -o $@ $<
$(LIB_SO): $(PKG)/lib/libiommufd.o $(PKG)/lib/libiommufd_uring.o
	$(Q)$(CC) $(PKG_CFLAGS) $(PKG_LDFLAGS) -shared \
		-Wl,-soname,libiommufd.so.$(LIB_SOVERSION) -o $@ $^ -luring
	$(Q)ln -sf $(notdir $@) $(PKG)/lib/libiommufd.so.$(LIB_SOVERSION)
	$(Q)ln -sf libiommufd.so.$(LIB_SOVERSION) $(PKG)/lib/libiommufd.so

$(PKG)/bin/iommufdctl: $(CTL_SRCS) $(wildcard $(CTL_DIR)/*.h) $(LIB_SO) $(UAPI_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PKG_CFLAGS) $(PKG_LDFLAGS) \
		$(if $(filter 1,$(LINE_EDIT)),-DHAVE_READLINE) -o $@ $(CTL_SRCS) \
		-L$(PKG)/lib -liommufd -luring $(if $(filter 1,$(LINE_EDIT)),-ledit -ltinfo)

# The man page is Documentation/iommufdctl.rst, through rst2man.
$(PKG)/man/iommufdctl.1: $(ROOT)/Documentation/iommufdctl.rst $(PKG_DIR)/manpage.py
	$(Q)mkdir -p $(dir $@)
	$(Q)python3 $(PKG_DIR)/manpage.py --version '$(IOMMUFD_OOT_VERSION)' $< | \
		rst2man --halt=warning > $@.tmp && mv $@.tmp $@

# The installed libiommufd.h finds the uAPI headers under
# $(INCLUDEDIR)/iommufd-oot/, laid out as in this tree; the grep fails the
# install if an include was not rewritten.
LIB_H_INCLUDES := -e 's|"../../uapi/linux/iommufd.h"|<iommufd-oot/uapi/linux/iommufd.h>|' \
		  -e 's|"../../iommufd/iommufd_test.h"|<iommufd-oot/iommufd/iommufd_test.h>|'
install-tools: tools-shared
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(INCLUDEDIR)/iommufd-oot/uapi/linux \
		$(DESTDIR)$(INCLUDEDIR)/iommufd-oot/iommufd \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(MODPROBEDIR)
	$(Q)install -m 755 $(PKG)/bin/iommufdctl $(DESTDIR)$(BINDIR)/
	$(Q)install -m 644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	$(Q)ln -sf libiommufd.so.$(LIB_VERSION) \
		$(DESTDIR)$(LIBDIR)/libiommufd.so.$(LIB_SOVERSION)
	$(Q)ln -sf libiommufd.so.$(LIB_SOVERSION) $(DESTDIR)$(LIBDIR)/libiommufd.so
	$(Q)sed $(LIB_H_INCLUDES) $(LIB_DIR)/libiommufd.h > $(DESTDIR)$(INCLUDEDIR)/libiommufd.h
	$(Q)! grep -n '#include "' $(DESTDIR)$(INCLUDEDIR)/libiommufd.h
	$(Q)install -m 644 $(ROOT)/uapi/linux/iommufd.h \
		$(DESTDIR)$(INCLUDEDIR)/iommufd-oot/uapi/linux/
	$(Q)install -m 644 $(ROOT)/iommufd/iommufd_test.h \
		$(DESTDIR)$(INCLUDEDIR)/iommufd-oot/iommufd/
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(IOMMUFD_OOT_VERSION)|' \
		$(PKG_DIR)/libiommufd.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libiommufd.pc
	$(Q)install -m 644 $(PKG)/man/iommufdctl.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 644 $(PKG_DIR)/iommufd-oot.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-iommufd-oot.rules
	$(Q)install -m 644 $(PKG_DIR)/iommufd-oot.conf $(DESTDIR)$(MODPROBEDIR)/
	$(Q)$(if $(DESTDIR),:,ldconfig)

uninstall-tools:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/iommufdctl \
		$(DESTDIR)$(LIBDIR)/libiommufd.so.$(LIB_VERSION) \
		$(DESTDIR)$(LIBDIR)/libiommufd.so.$(LIB_SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libiommufd.so \
		$(DESTDIR)$(INCLUDEDIR)/libiommufd.h \
		$(DESTDIR)$(PKGCONFIGDIR)/libiommufd.pc \
		$(DESTDIR)$(MANDIR)/man1/iommufdctl.1 \
		$(DESTDIR)$(UDEVRULESDIR)/60-iommufd-oot.rules \
		$(DESTDIR)$(MODPROBEDIR)/iommufd-oot.conf
	$(Q)rm -rf $(DESTDIR)$(INCLUDEDIR)/iommufd-oot
	$(Q)$(if $(DESTDIR),:,ldconfig)

# The release build of KVER into /lib/modules/KVER/updates/, which
# depmod ranks above the kernel's own directories. Unsigned: a kernel's
# headers do not carry its signing key (DKMS signs with its own).
install-module: $(call mod_ko,$(KVER),release)
	$(Q)$(MAKE) -C $(KDIR) M=$(BUILD)/mod/$(KVER)/release/iommufd \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		CONFIG_MODULE_SIG_ALL= modules_install
	$(Q)$(if $(DESTDIR),:,depmod -a $(KVER))

uninstall-module:
	$(Q)for m in $(RELEASE_MODULES); do \
		rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/$$m.ko*; done
	$(Q)$(if $(DESTDIR),:,depmod -a $(KVER))

install: install-module install-tools
uninstall: uninstall-module uninstall-tools

# The DKMS package's dkms.conf and module source. dkms-src copies what
# the module is built from, as the tree has it now (iommufd/*.[ch],
# iommufd/Kbuild, uapi/), into DKMS_SRC (debian/rules sets it).
dkms-conf: $(PKG)/dkms.conf
$(PKG)/dkms.conf: $(PKG_DIR)/dkms.conf.in $(ROOT)/Makefile
	$(Q)mkdir -p $(dir $@)
	$(Q){ cat $<; i=0; for m in $(RELEASE_MODULES); do \
		echo "BUILT_MODULE_NAME[$$i]=\"$$m\""; \
		echo "BUILT_MODULE_LOCATION[$$i]=\"iommufd/\""; \
		echo "DEST_MODULE_LOCATION[$$i]=\"/updates/dkms\""; \
		i=$$((i + 1)); done; } > $@

dkms-src:
	$(Q)test -n "$(DKMS_SRC)" || { echo "dkms-src: set DKMS_SRC" >&2; exit 1; }
	$(Q)install -d $(DKMS_SRC)/iommufd $(DKMS_SRC)/uapi/linux
	$(Q)install -m 644 $(wildcard $(ROOT)/iommufd/*.[ch]) $(ROOT)/iommufd/Kbuild \
		$(DKMS_SRC)/iommufd/
	$(Q)install -m 644 $(wildcard $(ROOT)/uapi/linux/*.h) $(DKMS_SRC)/uapi/linux/
	$(Q)install -D -m 755 $(ROOT)/tools/vfio-btf.sh $(DKMS_SRC)/tools/vfio-btf.sh

# The packages, built by dpkg-buildpackage in a copy of the tree as git
# has it (committed and staged or modified tracked files; untracked files
# are left out), then checked with lintian. Results in build/deb/.
deb: deps
	$(Q)$(PKG_DIR)/mkdeb.sh $(BUILD)/deb '$(IOMMUFD_OOT_VERSION)'

# The package check alone (root, Debian; make check runs it too): build,
# install, DKMS on both pinned kernels, VM suites, purge (tools/pkg/check.sh).
.PHONY: check-pkg
check-pkg: all modules-all
	$(Q)$(PKG_DIR)/check.sh $(KVERS_CHECK)
