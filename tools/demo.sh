#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo of `make run`. tools/vm/run-vm.sh copies this file to /tools in
# the VM's initramfs and tools/vm/init.sh runs it (busybox sh) after it
# loaded the test build of the module. After a look at the module and
# /dev/iommu, it is an iommufdctl script: a VMM bringing up a guest's DMA.
# On a real-device boot (make run's, when the kernel has VFIO: emulated
# VT-d with QEMU's edu device bound to vfio-pci, and our VFIO backend
# loaded, which init.sh says in IOMMUFD_DEMO_VFIO) a second script shows
# edu doing DMA through an IOAS of ours.
# iommufdctl -v prints each statement before its result; the exit status
# is 0 only if every statement did what it says.

echo "== module loaded (/proc/modules; iommufd_oot_test is the test build)"
grep iommufd_oot /proc/modules || echo "iommufd_oot(_test) is not loaded"
echo
echo "== device node"
ls -l /dev/iommu || exit 1
echo
echo "== iommufdctl -v -f - (the script in /tools/demo.sh)"
iommufdctl -v -f - <<'SCRIPT' || exit 1
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

# --- Part two: a real device.
case "${IOMMUFD_DEMO_VFIO:-}" in
"")
	echo
	echo "(No emulated IOMMU in this boot: the real-device part is left out.)"
	exit 0
	;;
failed)
	echo "demo: edu, vfio-pci or our VFIO backend could not be set up" >&2
	exit 1
	;;
esac
edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || continue
	edu=$(basename "$d")
	break
done
[ -n "$edu" ] || { echo "demo: no edu device bound to vfio-pci" >&2; exit 1; }
echo
echo "== A real device: QEMU's edu at $edu behind emulated VT-d, bound to vfio-pci"
echo "== VFIO's IOMMU backends (the last registered is asked first):"
grep -E "^(vfio_iommu_type1|$IOMMUFD_DEMO_VFIO) " /proc/modules | cut -d' ' -f1
echo
echo "== iommufdctl -v -f - (the second script in /tools/demo.sh)"
iommufdctl -v "addr=$edu" -f - <<'SCRIPT' || exit 1
echo "-- 12. A VMM opens the device the VFIO way: its group, a container of"
echo "--     our type (type=oot; type1v2 would find us as well), the device"
echo "--     fd. The container is one IOAS of ours with type1's rules, and"
echo "--     the IOMMU domain under it is VT-d's own."
edu = vfio-open $addr
vfio-info $edu
echo
echo "-- 13. Guest RAM for the device: a page to read from at IOVA 16M, a page"
echo "--     to write to at IOVA 32M."
mem src 4k
mem dst 4k
vfio-map $edu 16M src 4k flags=read
vfio-map $edu 32M dst 4k
echo
echo "-- 14. edu's DMA engine copies 2k: RAM at IOVA 16M -> its buffer -> RAM"
echo "--     at IOVA 32M. The tool wrote a new pattern at the source and 0xa5"
echo "--     at the target first; result=copied: every byte arrived."
edu-dma $edu_device 16M 32M 2k
dump src 16
dump dst 16
echo
echo "-- 15. The guest unmaps the target. The same DMA is blocked by the"
echo "--     IOMMU (VT-d logs a DMAR fault); the sentinel 0xa5 stays."
vfio-unmap $edu 32M 4k
expect EIO edu-dma $edu_device 16M 32M 2k dst=dst
dump dst 16
echo
echo "-- 16. A read-only mapping blocks the device's writes too."
vfio-map $edu 32M dst 4k flags=read
expect EIO edu-dma $edu_device 16M 32M 2k
echo
echo "-- 17. Teardown: the last close of the group releases the container,"
echo "--     and with it the IOAS, the domain and every pinned page."
vfio-unmap $edu
vfio-close $edu_device
echo
echo "-- iommufd demo: edu's DMA went through our IOAS, and was stopped by it."
SCRIPT
echo "containers our backend serves now: $(cat /sys/module/$IOMMUFD_DEMO_VFIO/refcnt)"
