/*
 * boot.h - the bootloader's A/B slots and their state (prefix boot_):
 * secure boot, staging an update into the inactive slot, a trial boot
 * that the new image must confirm, and the revert when it does not.
 *
 * The flash map is the board's (board.h, BRD_FLASH_*): slot A in bank 1,
 * slot B in bank 2 (RM0440 3.3: the G474 in dual-bank mode), and the
 * boot state in its own pages. The boot state is a log of small records
 * (sequence number, the active slot, a pending trial, the trial's boot
 * attempts, the security floor), each committed by its last double word
 * as the audit log's are, so a power cut at any program or erase leaves
 * either the record before or the record after: never a module without
 * a valid image to boot (the power-cut campaign proves it: boot_select
 * after a cut at every flash operation of staging, requesting a trial,
 * confirming and reverting).
 *
 * An image is checked by the config's verify callback (fwimg_verify with
 * the module's policy: key, hardware id, security floor) at every boot
 * and before a trial is granted. Everything takes the config first; the
 * state lives in flash, so a reset loses nothing but a partly programmed
 * double word.
 */
#ifndef BOOT_H
#define BOOT_H

#include <stdint.h>

#include "fwimg.h"
#include "hal.h"

enum { BOOT_SLOT_A = 0, BOOT_SLOT_B = 1, BOOT_SLOTS = 2 };

typedef struct boot_cfg {
    hal hw;                  /* the flash (hal_flash_*) */
    /* Check the image in slot (0/1) against the module's policy with
     * min_security as the floor; 0 with *info filled, or a negative
     * ek3_err code with *why set (the real one wraps fwimg_verify). */
    int (*verify)(void *ctx, unsigned slot, uint32_t min_security, fwimg_info *info, fwimg_why *why);
    void *ctx;
} boot_cfg;

/* Boot attempts a trial gets before it is reverted (each is recorded
 * before the image runs). */
#define BOOT_TRIAL_ATTEMPTS 1u

/* The boot state: the latest committed record of its pages (BRD_BOOTST_OFF). */
typedef struct boot_state {
    uint8_t have;            /* 0: no committed record (a factory-fresh module; the rest 0, trial -1) */
    uint32_t seq;            /* the record's number: 1, 2, ... */
    uint8_t confirmed;       /* the slot that boots (BOOT_SLOT_A/B) */
    int trial;               /* the slot of a pending trial, -1 none */
    uint8_t attempts;        /* the trial's boots so far */
    uint8_t reverted;        /* 1: this record abandoned a trial */
    uint32_t security;       /* the module's security floor: never lowered */
} boot_state;

/* Read the boot state (nothing written). 0 (out->have 0 when there is
 * no committed record), EK3_EINVAL, EK3_ERANGE (a flash smaller than
 * board.h's map). */
int boot_state_read(const boot_cfg *c, boot_state *out);

/* The decision of one boot, and what the running image may ask. */
typedef struct boot_choice {
    unsigned slot;           /* the slot to run */
    uint8_t trial;           /* 1: a trial boot of a new image, not yet confirmed */
    uint8_t reverted;        /* 1: a trial was abandoned at this boot (the old image runs) */
    uint32_t version;        /* the running image's header version */
    uint32_t security;       /* the module's security floor */
    fwimg_why refused[BOOT_SLOTS]; /* why a slot was passed over (FWIMG_OK: it was not) */
} boot_choice;

/* The bootloader, at every reset: read the boot state, pick the slot
 * (the confirmed one; a pending trial once; back to the confirmed one
 * when the trial booted and was never confirmed), verify it, record the
 * attempt before returning a trial. 0, or EK3_ENOENT when no slot holds a
 * valid image (a bricked module: the campaign's failure), EK3_EIO. */
int boot_select(const boot_cfg *c, boot_choice *out);

/* Staging, by the update receiver into the slot that is not running:
 * every call returns EK3_EBUSY while a trial is pending or when
 * running_slot is not the confirmed slot (the confirmed image is never
 * written), EK3_EINVAL for a slot above 1.
 * begin: zeros over the slot's first double word, then its pages erased
 * from the last to the first (BRD_SLOT_SIZE / 2 KiB erases).
 * write: programs bytes at off in the image (multiples of 8, EK3_EINVAL;
 * past the slot EK3_ERANGE); a double word that already holds those
 * bytes is left alone (a resume may send it again; all 1s need no
 * program), one that holds something else is EK3_EIO (stage again from
 * begin), as is a torn one (call extent).
 * extent: how far the slot is programmed after a reset, for a receiver
 * that writes in order: the end of the last double word that does not
 * read all 1s (all-1s double words inside an image need no program).
 * 0 means "stage from begin": the first double word is blank (nothing
 * staged, or a cut while begin erased page 0) or begin's zeros (a cut
 * during begin). A torn double word (ECC error) can only be programmed
 * again after an erase: its page is erased and the extent is the page's
 * start. A torn double word that reads as consistent garbage, or one
 * cut before any bit changed but marked programmed (its program fails:
 * EK3_EIO), cannot be told from data: finish's verification refuses
 * the image (bad-hash) or write fails, and the receiver begins again.
 * finish: verifies the staged image against the security floor (0, or
 * the verify's error with *why). A receiver that resumed compares
 * info's header (version, digest) with the image it was sending: a cut
 * in begin's first program, before any bit changed, leaves the old
 * image whole, and a resume over it finishes as the old image. */
int boot_stage_begin(const boot_cfg *c, unsigned running_slot);
int boot_stage_write(const boot_cfg *c, unsigned running_slot, uint32_t off, const void *buf, uint32_t n);
int boot_stage_extent(const boot_cfg *c, unsigned running_slot, uint32_t *bytes);
int boot_stage_finish(const boot_cfg *c, unsigned running_slot, fwimg_info *info, fwimg_why *why);

/* Ask that the next reset boot the staged slot as a trial (it must have
 * passed boot_stage_finish). 0, EK3_ENOENT (nothing staged), EK3_EIO. */
int boot_request_trial(const boot_cfg *c, unsigned running_slot);

/* The trial image confirms itself (it booted, joined the rack, shares
 * current): it becomes the slot that boots, and the security floor rises
 * to its counter. 0, EK3_EBUSY (not in a trial), EK3_EIO. */
int boot_confirm(const boot_cfg *c, const boot_choice *running);

/* One slot of a module's flash as fwimg_verify reads an image (its
 * fwimg_read_fn with this as ctx): offsets from the slot's start (board.h
 * BRD_SLOT_A_OFF / BRD_SLOT_B_OFF). The bootloader's verify, UPDATE_MGR's
 * and the rig's all read through it. */
typedef struct boot_slot_reader {
    hal hw;
    uint32_t base;            /* the slot's offset in the flash */
} boot_slot_reader;

/* The reader of slot (0: A, 1: B) of hw's flash. */
boot_slot_reader boot_slot_reader_of(hal hw, unsigned slot);

/* fwimg_read_fn: n bytes at off of the slot into buf (hal_flash_read:
 * 0, or its error, EK3_EIO for an ECC error). */
int boot_slot_read(void *ctx, uint32_t off, void *buf, size_t n);

#endif /* BOOT_H */
