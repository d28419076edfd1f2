# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Take-over of a reshape that has been set up but has not rewritten
# anything yet, with sync_max at max (as mdadm leaves it, caught before
# the kernel's first request). The kernel reports its front only from a
# request, and a restart with sync_max at 0 makes none, so reshaped backs
# up the first unit (a non-blocking read tells it the kernel has not
# begun), lets the kernel through it, and supervises from there. Passes
# when the take-over reports nothing rewritten unprotected, the kernel
# never ran beyond the backup (probe, from the first sample), and every
# byte matches the pattern.
. "$VM_LIB"
set -u

vm_takeover_unbegun 7107 0
