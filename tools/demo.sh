#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo of `make run`. tools/vm/run-vm.sh copies this file to /tools in
# the VM's initramfs and tools/vm/init.sh runs it (busybox sh) after it
# loaded the test build of the module. After a look at the module and
# /dev/iommu, it is an iommufdctl script: a VMM bringing up a guest's DMA.
# iommufdctl -v prints each statement before its result; the exit status
# is 0 only if every statement did what it says.

echo "== module loaded (/proc/modules)"
grep iommufd_oot /proc/modules || echo "iommufd_oot is not loaded"
echo
echo "== device node"
ls -l /dev/iommu || exit 1
echo
echo "== iommufdctl -v -f - (the script in /tools/demo.sh)"
exec iommufdctl -v -f - <<'SCRIPT'
echo "-- 1. The VMM opens /dev/iommu: one fd, every object below lives on it."
echo "-- 2. An IOAS for the guest's physical address space, and its IOVA."
ram = ioas alloc
ioas ranges $ram

echo
echo "-- 3. Guest RAM: 64M of THP memory at guest physical 0, and 2M of a"
echo "--    memfd above 4G, mapped 1:1 (IOVA = guest physical address)."
mem low 64M thp
mem high 2M memfd
ioas map $ram low 64M iova=0
ioas map $ram high 2M iova=0x100000000
ioas ranges $ram

echo
echo "-- 4. A mapping is never replaced: mapping over guest RAM fails."
expect EEXIST ioas map $ram high 4k iova=0x1000

# Mock devices come here once the module has them: each attaches to $ram
# (IOMMU_TEST_OP_MOCK_DOMAIN), gets an HW page table that mirrors it, and
# its reserved regions show in 'ioas ranges'.

echo
echo "-- 5. A vIOMMU: the guest gives a device its own IOVA space. The VMM"
echo "--    mirrors the guest's mappings with COPY, reusing RAM's pages."
viommu = ioas alloc
ioas copy $ram 0x200000 1M $viommu iova=0x80000000
ioas copy $ram 0x100000000 4k $viommu

echo
echo "-- 6. The device does DMA at vIOMMU IOVA 0x80000000 (an in-kernel"
echo "--    access stands in for it); the bytes land in guest RAM at 2M."
dev = access create $viommu flags=pin
mem dma 4k
fill dma 8 0xab
access rw $dev 0x80000000 dma 8 flags=write
dump low+2M 8

echo
echo "-- 7. Options: large IOPTEs off for the vIOMMU IOAS; charging mode."
option get huge_pages object=$viommu
option set huge_pages 0 object=$viommu
option get huge_pages object=$viommu
option get rlimit_mode

echo
echo "-- 8. The guest unmaps. Mappings go whole: half of one is refused."
expect ENOENT ioas unmap $viommu 0x80000000 4k
ioas unmap $viommu 0x80000000 1M
ioas unmap $ram 0x100000000 2M

echo
echo "-- 9. Teardown: an IOAS with a device on it is busy until it goes."
expect EBUSY destroy $viommu
access destroy $dev
destroy $viommu
ioas unmap $ram
destroy $ram
echo
echo "-- iommufd demo: every step did what it said."
SCRIPT
