/*
 * flashemu.h - an emulated STM32G474 flash that can lose power (prefix fle_).
 *
 * The device behind the host HAL's flash operations (hosthal.c), modelled
 * on RM0440 section 3 "Embedded flash memory (FLASH)" in dual-bank mode:
 *
 * - 2 KiB pages (FLE_PAGE); an erase works on whole pages and leaves them
 *   all 1s (0xFF). The area is split into two banks (bank_size), so an A/B
 *   image pair can live one per bank.
 * - Programming is by 64-bit double word (FLE_DW) with 8 ECC bits: offset
 *   and length of a program must be multiples of 8 (else EK3_EINVAL, the
 *   PGAERR/SIZERR of the part). A double word can be programmed once
 *   after an erase: programming it again is PROGERR (EK3_EIO), whatever
 *   the data, even when it still reads all 1s (its ECC bits are set), with
 *   the one exception RM0440 gives in FLASH_SR.PROGERR: writing all zeros
 *   (0x0000 0000 0000 0000) over a programmed double word is allowed (the
 *   way to invalidate a record); it reads back as zeros with a good ECC.
 * - Reads go through the ECC: a double word whose ECC reports a double
 *   error (ECCD) makes the read that touches it fail with EK3_EIO; a single
 *   error is corrected (counted in ecc_corrected) and the read succeeds.
 *
 * Every fault is configuration (fle_config, littlefs-style), drawn from
 * the seed, so a run is reproducible:
 *
 * - power cut: the cut_at-th operation (programs count per double word,
 *   erases per page, from 1 since fle_init) is interrupted. A cut program
 *   leaves, by a draw: nothing programmed; everything programmed (the cut
 *   came after the cells but before the software saw EOP); a subset of the
 *   bits to clear cleared with the ECC bits torn (reads of it: ECCD,
 *   EK3_EIO); or a subset cleared with a consistent-looking ECC (silent
 *   garbage). A cut erase leaves the page partly erased: each double word
 *   erased, untouched, or half-way (bits between, ECCD). The cut operation
 *   returns EK3_EIO, and from then on the device is off: every operation
 *   returns EK3_EIO until fle_power_on (the reboot).
 * - wear: a page erased more than `endurance` times (RM0440's datasheet
 *   figure for the G474: 10 000 cycles) comes back from every further erase
 *   with 1 + (erases - endurance) / 100 seeded double words that do not
 *   erase (one bit stuck at 0): they read as not blank and programming
 *   them is PROGERR.
 * - read disturb: with disturb_reads > 0, every disturb_reads-th read of a
 *   page since its last erase flips a bit of a seeded programmed double
 *   word of it; the first flip of a double word is corrected by the ECC,
 *   the second makes it ECCD.
 *
 * The state is plain data (no heap): copy the struct to fork a device (the
 * power-cut runner does, to cut every operation of a workload in turn).
 * It is the whole 512 KiB part, about 546 KiB with its side tables: keep
 * it off the stack (static, or in a heap-allocated struct).
 */
#ifndef FLASHEMU_H
#define FLASHEMU_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"

#define FLE_PAGE 2048u
#define FLE_DW 8u
#define FLE_MAX_SIZE (512u * 1024u) /* the STM32G474xE's whole flash (board.h BRD_FLASH_SIZE) */
#define FLE_ENDURANCE 10000u

typedef struct fle_config {
    uint64_t seed;          /* draws of the faults' outcomes (0 is a seed like any other) */
    uint32_t size;          /* bytes, a multiple of FLE_PAGE up to FLE_MAX_SIZE (0: FLE_MAX_SIZE) */
    uint32_t bank_size;     /* bytes per bank, a multiple of FLE_PAGE (0: size / 2) */
    uint64_t cut_at;        /* power cut during operation number cut_at (1, 2, ...; 0: never) */
    uint32_t endurance;     /* erase cycles per page before bits stick (0: FLE_ENDURANCE) */
    uint32_t disturb_reads; /* reads of a page between disturb flips (0: no read disturb) */
} fle_config;

typedef struct fle_stats {
    uint64_t ops;              /* programs (double words) and erases (pages) started */
    uint64_t programs, erases; /* of them */
    uint64_t bytes_programmed; /* 8 per double word programmed */
    uint64_t reads;
    uint32_t progerr;          /* programs refused: the double word was not erased */
    uint32_t ecc_errors;       /* reads failed by an ECCD */
    uint32_t ecc_corrected;    /* single errors the ECC corrected */
    uint32_t cuts;             /* power cuts that happened */
    uint32_t worn_pages;       /* pages erased past their endurance */
} fle_stats;

/* Per double word, 4 bits (two double words a byte, the even one in the
 * low nibble: the side table is 1/16 of the cells): ECCD, programmed
 * since the last erase, disturb flips (0..3). */
#define FLE_DW_ECCD 0x8u
#define FLE_DW_PROG 0x4u
#define FLE_DW_FLIPS 0x3u

typedef struct fle {
    fle_config cfg;
    uint8_t off;                          /* the power is off (after a cut) */
    uint64_t rng;
    fle_stats st;
    uint8_t mem[FLE_MAX_SIZE];            /* the cells (what a debugger's dump shows) */
    uint8_t dw[FLE_MAX_SIZE / FLE_DW / 2u]; /* FLE_DW_* per double word, a nibble each */
    uint32_t erase_count[FLE_MAX_SIZE / FLE_PAGE];
    uint32_t page_reads[FLE_MAX_SIZE / FLE_PAGE];
} fle;

/* Power on a new device: every page erased (never programmed, 0 erase
 * cycles), faults as cfg says. 0, or EK3_EINVAL for a size or bank size
 * that is not whole pages or above FLE_MAX_SIZE (the device is then a
 * FLE_MAX_SIZE one without faults). */
int fle_init(fle *f, const fle_config *cfg);

/* The reboot after a cut: the power comes back (the cells keep what the
 * cut left). The next cut is at cut_at (set it in f->cfg.cut_at; the
 * operation count goes on from where it was). */
void fle_power_on(fle *f);

/* Is the power off (a cut happened and no fle_power_on since)? */
int fle_is_off(const fle *f);

/* Read n bytes at off. 0; EK3_ERANGE outside the device; EK3_EIO when a
 * double word read has an ECC double error, or the power is off (buf is
 * then filled as far as it could be read, the rest 0xFF). */
int fle_read(fle *f, uint32_t off, void *buf, size_t n);

/* Program n bytes at off, one double word after the other. 0;
 * EK3_ERANGE outside the device; EK3_EINVAL for an offset or size not a
 * multiple of 8; EK3_EIO for PROGERR (a double word not erased, the rest
 * not programmed), a cut, or the power off. */
int fle_program(fle *f, uint32_t off, const void *buf, size_t n);

/* Erase the pages of [off, off+n): whole pages (EK3_EINVAL otherwise),
 * EK3_ERANGE outside the device, EK3_EIO on a cut or with the power off. */
int fle_erase(fle *f, uint32_t off, size_t n);

/* A hal with only this device behind it (flash_size FLE_MAX_SIZE, the
 * whole part: give the device that size) and the host's AES-CMAC: for code that needs the
 * flash alone, as the power-cut runner's workloads. */
hal fle_hal(fle *f);

/* The bank of an offset (0 or 1). */
unsigned fle_bank(const fle *f, uint32_t off);

#endif /* FLASHEMU_H */
