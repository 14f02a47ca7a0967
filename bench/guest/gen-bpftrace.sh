# gen_bpftrace MODE < FUNCTIONS  ->  a bpftrace script on stdout (sourced by
# the bench scenario). MODE is kfunc (fentry/fexit) or kprobe. FUNCTIONS are
# the kernel functions ownertrace attached on this kernel, one a line.
#
# The script does per call what ownertrace's BPF side does: on entry stash
# the subject and its group's owner_cnt/owner (keyed by thread), print an
# enter line for the two span points (probe, remove); on return read the
# group again and print one line with device, bus, driver, group, before ->
# after, the return value and the kernel stack. Same functions, same entry
# and exit hooks, comparable work: the numbers compare tools, not features.
#
# kfunc probes name their arguments: the subject is args->dev or
# args->group, unless ARGS_LISTING (bpftrace -lv output) names a function's
# first parameter otherwise (7.2's vmbus_dma_configure(child_device)).
first_arg() {
  local fn=$1 fallback=$2 name=""
  [ -n "$ARGS_LISTING" ] && [ -f "$ARGS_LISTING" ] &&
    name=$(awk -v fn="$fn" 'found { n = $NF; sub(/^\*+/, "", n); print n; exit }
                            $0 == "kfunc:" fn || $0 ~ (":" fn "$") { found = 1 }' "$ARGS_LISTING")
  echo "${name:-$fallback}"
}

gen_bpftrace() {
  local mode=$1 fn subject type entry exit ret span
  if [ "$mode" = kfunc ]; then entry=kfunc exit=kretfunc; else entry=kprobe exit=kretprobe; fi
  while read -r fn; do
    case $fn in
      iommu_group_*) type="struct iommu_group" subject='$s' ;;
      *) type="struct device" subject='$s->iommu_group' ;;
    esac
    case $fn in
      really_probe|iommu_device_use_default_domain|iommu_group_claim_dma_owner|*_dma_configure) ret=retval ;;
      *) ret=0 ;;
    esac
    case $fn in really_probe|device_release_driver_internal) span=1 ;; *) span=0 ;; esac
    echo "$entry:$fn {"
    if [ "$mode" = kfunc ]; then
      case $type in *group) echo "  \$s = args->$(first_arg "$fn" group);" ;; *) echo "  \$s = args->$(first_arg "$fn" dev);" ;; esac
    else
      echo "  \$s = ($type *)arg0;"
    fi
    echo "  @s_$fn[tid] = (uint64)\$s;"
    echo "  @c_$fn[tid] = $subject->owner_cnt;"
    echo "  @o_$fn[tid] = (uint64)$subject->owner;"
    [ $span = 1 ] && echo "  printf(\"${fn}_enter %s pid=%d dev=%s drv=%s cnt=%u\\n\", comm, pid, str(\$s->kobj.name), str(\$s->driver->name), @c_$fn[tid]);"
    echo "}"
    echo "$exit:$fn {"
    echo "  \$s = ($type *)@s_$fn[tid];"
    case $type in
      *group) echo "  printf(\"$fn %s pid=%d group=%d cnt %u->%u owner %llx->%llx ret=%d\\n%s\\n\", comm, pid, \$s->id, @c_$fn[tid], \$s->owner_cnt, @o_$fn[tid], (uint64)\$s->owner, $ret, kstack);" ;;
      *) echo "  printf(\"$fn %s pid=%d dev=%s bus=%s drv=%s group=%d cnt %u->%u owner %llx->%llx ret=%d\\n%s\\n\", comm, pid, str(\$s->kobj.name), str(\$s->bus->name), str(\$s->driver->name), \$s->iommu_group->id, @c_$fn[tid], \$s->iommu_group->owner_cnt, @o_$fn[tid], (uint64)\$s->iommu_group->owner, $ret, kstack);" ;;
    esac
    echo "  delete(@s_$fn[tid]); delete(@c_$fn[tid]); delete(@o_$fn[tid]);"
    echo "}"
  done
}
