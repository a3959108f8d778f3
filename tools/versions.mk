# SPDX-License-Identifier: GPL-2.0
# The kernels every run is made against. Change them here and nowhere else:
# tools/deps.sh, the Makefile and the VM runner all read this file.
KVER_612 := 6.12.117+deb12-amd64
KVER_61 := 6.1.0-56-amd64
LINUX_SOURCE_PKG := linux-source-6.12
