/* Instruction counter for QEMU TCG (system emulation), with markers.
 *
 * Counts every guest instruction executed (an inline add per instruction, exact) and,
 * each time the instruction at address `mark` (plugin argument, hex) executes, records
 * the count so far. At exit it prints "icount total N" and one "icount mark K N" line
 * per marker hit, to stderr. The firmware calls its marker function before and after
 * each region it measures (tests/embedded/src/bin/measure.rs).
 *
 * Debian's QEMU 7.2 ships no qemu-plugin.h, so the few declarations of the plugin API
 * v1 used here are written out below (signatures as in QEMU 7.2 include/qemu/qemu-plugin.h).
 * Build: cc -shared -fPIC -O2 -o libicount.so icount.c
 * Use:   qemu-system-arm ... -plugin ./libicount.so,mark=0x1234 -d plugin
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- qemu-plugin.h (API version 1, QEMU 7.2), the subset used ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
/* ---- end of the API subset ---- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_MARKS 256
static uint64_t count;           /* instructions executed so far (one vCPU) */
static uint64_t mark_addr = UINT64_MAX;
static uint64_t marks[MAX_MARKS];
static size_t n_marks;
static uint64_t lost_marks; /* marker hits after MAX_MARKS: counted, not recorded */
/* Optional profile (plugin argument profile=1): executions per instruction address in
 * the first PROFILE_SPAN bytes of the address space (flash on mps2-an386), printed at
 * exit as "icount pc ADDR N" lines (decimal); scripts/embedded.sh profile sums them by symbol. */
#define PROFILE_SPAN (4u << 20)
static uint64_t *profile;
/* With window=K as well, the printed profile covers only the instructions between mark
 * hits K and K+1 (0-based): the counts are snapshotted at both hits and differenced. */
static long window = -1;
static uint64_t *snapshot;

static void on_mark(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (profile && window >= 0 && (n_marks == (size_t)window || n_marks == (size_t)window + 1))
    for (size_t i = 0; i < PROFILE_SPAN / 2; i++) snapshot[i] = profile[i] - snapshot[i];
  if (n_marks < MAX_MARKS)
    marks[n_marks++] = count;
  else
    lost_marks++;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
    if (profile && pc < PROFILE_SPAN)
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &profile[pc / 2], 1);
    if (pc == mark_addr)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
  }
}

static void on_atexit(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  fprintf(stderr, "icount total %" PRIu64 "\n", count);
  for (size_t k = 0; k < n_marks; k++) fprintf(stderr, "icount mark %zu %" PRIu64 "\n", k, marks[k]);
  if (lost_marks)
    fprintf(stderr, "icount error: %" PRIu64 " marker hits after the first %d were not recorded\n",
            lost_marks, MAX_MARKS);
  if (profile) {
    const uint64_t *shown = window >= 0 ? snapshot : profile;
    for (size_t i = 0; i < PROFILE_SPAN / 2; i++)
      if (shown[i]) fprintf(stderr, "icount pc %zu %" PRIu64 "\n", 2 * i, shown[i]);
  }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "mark=", 5) == 0) mark_addr = strtoull(argv[i] + 5, NULL, 16) & ~(uint64_t)1;
    if (strcmp(argv[i], "profile=1") == 0 && !profile) {
      profile = calloc(PROFILE_SPAN / 2, sizeof *profile);
      if (!profile) return -1;
    }
    if (strncmp(argv[i], "window=", 7) == 0) window = strtol(argv[i] + 7, NULL, 10);
  }
  if (window >= 0) {
    snapshot = calloc(PROFILE_SPAN / 2, sizeof *snapshot);
    if (!snapshot || !profile) return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
  return 0;
}
