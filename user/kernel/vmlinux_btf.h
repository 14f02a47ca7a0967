/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One parse of the running kernel's BTF for discovery and libbpf's load.
 *
 * vmlinux BTF is ~5-7 MB, and parsing it holds two copies for a moment
 * (libbpf reads the file, then copies it into the struct btf): the largest
 * part of ownertrace's peak memory and a good part of its start-up. libbpf
 * parses its own copy at load (CO-RE, fentry attach targets) and frees it
 * when the load ends; there is no API to give it ours. The link wraps
 * btf__load_vmlinux_btf() (-Wl,--wrap, see the Makefile) so that the next
 * call libbpf makes receives the copy discovery already read. Linked
 * dynamically, libbpf's own calls are not wrapped: it parses its own copy
 * as before, and ot_vmlinux_btf_reclaim() hands ours back to be freed.
 */
#ifndef OT_VMLINUX_BTF_H
#define OT_VMLINUX_BTF_H

struct btf;

/* Parse /sys/kernel/btf/vmlinux (NULL with errno set on failure). */
struct btf *ot_vmlinux_btf_load(void);
/* libbpf's next btf__load_vmlinux_btf() gets btf, and frees it after its load. */
void ot_vmlinux_btf_lend(struct btf *btf);
/* The lent copy if libbpf did not take it (caller frees), else NULL. */
struct btf *ot_vmlinux_btf_reclaim(void);
/* Parses of vmlinux BTF this process made so far, lent copies not counted. */
int ot_vmlinux_btf_parses(void);

#endif
