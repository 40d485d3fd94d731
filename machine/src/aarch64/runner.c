/*
 * The AArch64 side of loweq's conformance runner, run under qemu-aarch64.
 *
 * Reads batches from stdin until end of input. A batch is a header of six
 * little-endian 64-bit words (magic, code bytes, records, words per record,
 * index of the fault word, the page of the memory window or 0), the code,
 * and the records. The code is a function taking the records' address; it
 * is copied into an executable mapping and called, and the records are
 * written back to stdout. The memory window's page is mapped read-write,
 * and the page after it mapped without access (so that an access running
 * past the window faults), the first time a batch asks for it.
 *
 * While the code runs, x28 points at the current record and x26 holds the
 * address to resume at when the code faults: the handler stores the signal
 * number in the record's fault word and continues there. A fault elsewhere
 * kills the process, and the caller reports it.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define MAGIC 0x6c6f776571633634ULL /* "loweqc64" */

static uint8_t *code;
static size_t code_cap;
static size_t code_len;
static uint64_t fault_word;

static void on_fault(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    uint64_t pc = uc->uc_mcontext.pc;
    (void)info;
    if (pc < (uint64_t)code || pc >= (uint64_t)code + code_len) {
        signal(sig, SIG_DFL);
        return;
    }
    uint64_t *rec = (uint64_t *)uc->uc_mcontext.regs[28];
    rec[fault_word] = (uint64_t)sig;
    uc->uc_mcontext.pc = uc->uc_mcontext.regs[26];
}

/* Maps the window's page and the inaccessible page after it at `page`. */
static int map_window(uint64_t page) {
    void *want = (void *)page;
    void *p = mmap(want, 2 * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        /* An emulator that does not know MAP_FIXED_NOREPLACE: a hint. */
        p = mmap(want, 2 * 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != want) return -1;
    return mprotect((uint8_t *)want + 4096, 4096, PROT_NONE);
}

static int read_all(void *p, size_t n) {
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = read(0, b, n);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_all(const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t r = write(1, b, n);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

int main(void) {
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, 0) != 0) return 3;
    }
    uint64_t *records = 0;
    size_t records_cap = 0;
    uint64_t window = 0;
    for (;;) {
        uint64_t hdr[6];
        ssize_t first = read(0, hdr, 1);
        if (first == 0) return 0;
        if (first < 0 || read_all((uint8_t *)hdr + 1, sizeof hdr - 1) != 0) return 4;
        if (hdr[0] != MAGIC) return 5;
        size_t len = hdr[1], n = hdr[2] * hdr[3];
        fault_word = hdr[4];
        if (hdr[5] != 0 && hdr[5] != window) {
            if (window != 0 || map_window(hdr[5]) != 0) {
                static const char msg[] = "cannot map the memory window\n";
                if (write(2, msg, sizeof msg - 1) < 0) return 11;
                return 10;
            }
            window = hdr[5];
        }
        if (len > code_cap) {
            if (code) munmap(code, code_cap);
            code_cap = (len + 65535) & ~(size_t)65535;
            code = mmap(0, code_cap, PROT_READ | PROT_WRITE | PROT_EXEC,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (code == MAP_FAILED) return 6;
        }
        if (n > records_cap) {
            free(records);
            records_cap = n;
            records = malloc(n * 8);
            if (!records) return 7;
        }
        code_len = len;
        if (read_all(code, len) != 0 || read_all(records, n * 8) != 0) return 8;
        __builtin___clear_cache((char *)code, (char *)code + len);
        ((void (*)(uint64_t *))code)(records);
        if (write_all(records, n * 8) != 0) return 9;
    }
}
