#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo of `make run`. tools/vm/run-vm.sh copies this file to /tools in
# the VM's initramfs and tools/vm/init.sh runs it (busybox sh) after it
# loaded the test build of the module. Shows that the module is loaded and
# /dev/iommu exists, then walks through the ioctls with /tools/iommufd_demo.
# Exits with the demo's status.

echo "== module loaded (/proc/modules)"
grep iommufd_oot /proc/modules || echo "iommufd_oot is not loaded"
echo
echo "== device node"
ls -l /dev/iommu || exit 1
echo
echo "== /tools/iommufd_demo"
/tools/iommufd_demo
