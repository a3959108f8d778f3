#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo of `make run`. tools/vm/run-vm.sh copies this file to /tools in
# the VM's initramfs and tools/vm/init.sh runs it (busybox sh) after it
# loaded the test build of the module. After a look at the module and
# /dev/iommu, it is an iommufdctl script: a VMM bringing up a guest's DMA.
# iommufdctl -v prints each statement before its result; the exit status
# is 0 only if every statement did what it says.

echo "== module loaded (/proc/modules; iommufd_oot_test is the test build)"
grep iommufd_oot /proc/modules || echo "iommufd_oot(_test) is not loaded"
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
echo "-- 3. Guest RAM: 64M of THP memory at guest physical 16M, and 2M of a"
echo "--    memfd at 1G, mapped 1:1 (IOVA = guest physical address)."
mem low 64M thp
mem high 2M memfd
ioas map $ram low 64M iova=16M
ioas map $ram high 2M iova=1G
ioas ranges $ram

echo
echo "-- 4. A mapping is never replaced: mapping over guest RAM fails."
expect EEXIST ioas map $ram high 4k iova=16M+4k

echo
echo "-- 5. Devices: two mock devices attach to the guest's IOAS, a NIC whose"
echo "--    IOMMU has only small IOPTEs and a GPU whose IOMMU also has huge"
echo "--    ones. Each gets an HW page table (HWPT) mirroring the IOAS; their"
echo "--    aperture (16M..2G) and reserved regions limit the IOAS's IOVA."
nic = device add pt=$ram
gpu = device add huge pt=$ram
device resv $nic 0x7ff00000 1M
ioas ranges $ram
hw-info $nic_idev
echo "--    What the IOMMUs translate: guest RAM, IOPTE by IOPTE."
check-map $nic_hwpt 16M low 2M
check-map $gpu_hwpt 1G high 2M
iopte-stats $nic_hwpt 16M 64M
iopte-stats $gpu_hwpt 16M 64M

echo
echo "-- 6. A vIOMMU: the guest gives a device its own IOVA space. The VMM"
echo "--    mirrors the guest's mappings with COPY, reusing RAM's pages."
viommu = ioas alloc
ioas copy $ram 18M 1M $viommu iova=0x80000000
ioas copy $ram 1G 4k $viommu

echo
echo "-- 7. The device does DMA at vIOMMU IOVA 0x80000000 (an in-kernel"
echo "--    access stands in for it); the bytes land in guest RAM at 18M."
dev = access create $viommu flags=pin
mem dma 4k
fill dma 8 0xab
access rw $dev 0x80000000 dma 8 flags=write
dump low+2M 8

echo
echo "-- 8. Options: large IOPTEs off for the vIOMMU IOAS; charging mode."
option get huge_pages object=$viommu
option set huge_pages 0 object=$viommu
option get huge_pages object=$viommu
option get rlimit_mode

echo
echo "-- 9. A guest whose IOMMU has DMA windows (PAPR TCE tables): a windowed"
echo "--    IOAS has IOVA only inside its windows, each with its page size."
tce = ioas alloc windowed
window create $tce 256M base=256M
window create $tce 64M base=1G page_size=64k
window list $tce
ioas map $tce low 2M iova=256M
expect EINVAL ioas map $tce high 4k iova=768M
tce_dev = device add pt=$tce
check-map $tce_dev_hwpt 256M low 2M
window remove $tce 256M

echo
echo "-- 10. The guest unmaps. Mappings go whole: half of one is refused."
expect ENOENT ioas unmap $viommu 0x80000000 4k
ioas unmap $viommu 0x80000000 1M
ioas unmap $ram 1G 2M

echo
echo "-- 11. Teardown: an IOAS with a device on it is busy until it goes."
expect EBUSY destroy $viommu
access destroy $dev
destroy $viommu
expect EBUSY destroy $ram
destroy $nic
destroy $gpu
ioas unmap $ram
destroy $ram
destroy $tce_dev
destroy $tce
echo
echo "-- iommufd demo: every step did what it said."
SCRIPT
