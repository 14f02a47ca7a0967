/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One parse of the running kernel's BTF for discovery and every libbpf load
 * of a live run (the tracer, a kprobe retry, the census).
 *
 * vmlinux BTF is ~5-7 MB, and parsing it holds two copies for a moment
 * (libbpf reads the file, then copies it into the struct btf; where the
 * kernel lets the file be mapped, 6.16+, the one copy is made from the
 * mapping): each parse was the peak of ownertrace's memory, and a good
 * part of its start-up.
 * libbpf parses its own copy at each object's load (CO-RE, fentry attach
 * targets) and frees it when the load ends; there is no API to give it
 * one. The link wraps btf__load_vmlinux_btf() and btf__free() (-Wl,--wrap,
 * see the Makefile): while a copy is shared, libbpf's loads get it and its
 * frees of it are skipped. libbpf only reads vmlinux BTF. Linked
 * dynamically, libbpf's own calls are not wrapped: it parses and frees its
 * own copies as before, and the shared one is only discovery's.
 */
#ifndef OT_VMLINUX_BTF_H
#define OT_VMLINUX_BTF_H

struct btf;

/* Parse /sys/kernel/btf/vmlinux (NULL with errno set on failure). */
struct btf *ot_vmlinux_btf_load(void);
/* libbpf's loads get btf until ot_vmlinux_btf_unshare(), which frees it. */
void ot_vmlinux_btf_share(struct btf *btf);
void ot_vmlinux_btf_unshare(void);
/* Parses of vmlinux BTF this process made so far (shared copies not counted). */
int ot_vmlinux_btf_parses(void);
/* How many of them copied from a mapping of the file (one copy held, not two). */
int ot_vmlinux_btf_mapped(void);

#endif
