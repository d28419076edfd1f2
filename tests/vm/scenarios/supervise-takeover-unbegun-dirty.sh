# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# supervise-takeover-unbegun with the array's first page dirty in its page
# cache, as a mounted filesystem's superblock is: the non-blocking read
# that tells an untouched reshape fails with EAGAIN for the page's
# writeback, not for the kernel. Taking that for "begun" lets the kernel
# rewrite the first unit with no backup; reshaped must ask again with a
# blocking read, back the unit up and supervise from there (see
# vm_takeover_unbegun).
. "$VM_LIB"
set -u

vm_takeover_unbegun 7108 1
