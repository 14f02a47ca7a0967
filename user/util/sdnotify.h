/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The systemd readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to $NOTIFY_SOCKET. Under Type=notify, systemd counts the daemon
 * started only when it says READY=1, which ownertrace does once it is
 * attached, so units ordered after it (systemd-udev-trigger.service) wait
 * until its probes are in place. Without $NOTIFY_SOCKET it does nothing.
 */
#ifndef OT_SDNOTIFY_H
#define OT_SDNOTIFY_H

/* 0 sent (or no socket to send to), -errno otherwise. */
int ot_sd_notify(const char *state);

#endif
