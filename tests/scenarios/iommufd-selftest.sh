# iommufd-selftest: the kernel's own iommufd selftest
# (tools/testing/selftests/iommu/iommufd, built by tests/vm/build-kernel.sh
# from the same source; mock devices of CONFIG_IOMMUFD_TEST) under
# `ownertrace run --`, on the 6.12-iommufd kernel booted with
# intel_iommu=off: with the vIOMMU active its ops would be matched to the
# selftest's mock devices (no firmware node names their IOMMU) and every
# mock-domain case fails with EINVAL before any ownership call.
# needs /bin/iommufd as a guest file; tests/vm/test_iommufd_vm.py asserts.
command -v iommufd >/dev/null || ot_die "the iommufd selftest missing"
[ -c /dev/iommu ] && ot_ok dev-iommu || ot_die "/dev/iommu missing: no CONFIG_IOMMUFD?"
# its hugepage variants need reserved 2 MB pages
echo 96 > /proc/sys/vm/nr_hugepages   # the 128 MB variants need 64
ot_log "hugepages: $(cat /proc/sys/vm/nr_hugepages)"
ownertrace run --json -o /tmp/selftest.jsonl -- iommufd > /tmp/selftest.tap 2> /tmp/selftest.err
echo "exit=$?" >> /tmp/selftest.err
ot_artifact selftest.jsonl /tmp/selftest.jsonl
ot_artifact selftest.err /tmp/selftest.err
ot_artifact selftest.tap /tmp/selftest.tap
