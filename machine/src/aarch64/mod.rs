//! AArch64 under user-mode QEMU.
//!
//! A batch becomes one assembly file, assembled by GNU `as`
//! (`aarch64-linux-gnu-as`) and cut to its `.text` bytes by `objcopy`: for
//! each group a loop over its vectors that loads NZCV and the registers from
//! the vector's record, runs the group's instructions, and stores the
//! registers, NZCV and "no fault" back; in a batch with memory, the
//! vector's memory image is copied into the window at
//! [`crate::MEMORY_WINDOW`] first (the runner maps it) and back out
//! after. A small static runner (`runner.c`,
//! built once with `aarch64-linux-gnu-gcc` and cached in the temporary
//! directory) runs in one `qemu-aarch64` process for the machine's whole
//! life: it reads a batch (code and records) from a pipe, runs it, and
//! writes the records back, so the emulator starts once, not per vector.
//! Faults in the code under test are caught in the runner and recorded.
//!
//! Registers the code under test may use: `x0`..`x17` and `x19`..`x24`
//! (and their `w` names in the code). `x18` (the platform register),
//! `x25` (scratch), `x26` (resume address), `x27` (loop count), `x28`
//! (record pointer), `x29`, `x30` and `sp` belong to the harness.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::{flags, Batch, Layout, Machine, MachineError, Outcomes, MEMORY_PAGE, MEMORY_WINDOW};

/// The runner's source.
const RUNNER: &str = include_str!("runner.c");
/// The batch header's magic word ("loweqc64").
const MAGIC: u64 = 0x6c6f_7765_7163_3634;
/// What to install when a tool is missing.
const INSTALL: &str = "install them with `apt-get install qemu-user binutils-aarch64-linux-gnu \
                       gcc-aarch64-linux-gnu` (Debian/Ubuntu)";

/// The host tools.
#[derive(Clone, Debug)]
struct Tools {
    qemu: PathBuf,
    assembler: PathBuf,
    objcopy: PathBuf,
    compiler: PathBuf,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

impl Tools {
    fn find() -> Result<Tools, MachineError> {
        let need = |names: &[&str]| {
            find(names).ok_or_else(|| MachineError::Unavailable {
                what: "AArch64 under QEMU".into(),
                reason: format!("`{}` was not found on PATH", names.join("` or `")),
                install: INSTALL.into(),
            })
        };
        Ok(Tools {
            qemu: need(&["qemu-aarch64", "qemu-aarch64-static"])?,
            assembler: need(&["aarch64-linux-gnu-as"])?,
            objcopy: need(&["aarch64-linux-gnu-objcopy"])?,
            compiler: need(&["aarch64-linux-gnu-gcc"])?,
        })
    }
}

fn io(what: &str, e: std::io::Error) -> MachineError {
    MachineError::Crashed(format!("{what}: {e}"))
}

/// A fresh directory for one machine's files, removed on drop.
#[derive(Debug)]
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir, MachineError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "loweq-aarch64-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| io("cannot create a work directory", e))?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds the runner once per content and compiler, in the temporary
/// directory, and returns its path.
fn runner(tools: &Tools) -> Result<PathBuf, MachineError> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    RUNNER.hash(&mut h);
    tools.compiler.hash(&mut h);
    let path = std::env::temp_dir().join(format!("loweq-aarch64-runner-{:016x}", h.finish()));
    if path.is_file() {
        return Ok(path);
    }
    let work = WorkDir::new()?;
    let src = work.0.join("runner.c");
    std::fs::write(&src, RUNNER).map_err(|e| io("cannot write the runner", e))?;
    let built = work.0.join("runner");
    let out = Command::new(&tools.compiler)
        .args(["-static", "-O2", "-o"])
        .arg(&built)
        .arg(&src)
        .output()
        .map_err(|e| io("cannot run the AArch64 compiler", e))?;
    if !out.status.success() {
        return Err(MachineError::Unavailable {
            what: "AArch64 under QEMU".into(),
            reason: format!(
                "the runner does not build: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            install: INSTALL.into(),
        });
    }
    // Rename is atomic: concurrent builders all leave a complete file.
    std::fs::rename(&built, &path).map_err(|e| io("cannot store the runner", e))?;
    Ok(path)
}

/// The running emulator.
struct Emulator {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// AArch64 under `qemu-aarch64`.
pub struct Qemu {
    tools: Tools,
    runner: PathBuf,
    work: WorkDir,
    emulator: Option<Emulator>,
}

impl std::fmt::Debug for Qemu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qemu").field("tools", &self.tools).finish()
    }
}

/// A register the batch may load, by its 64-bit name.
fn batch_register(name: &str) -> Result<u32, MachineError> {
    let n = name
        .strip_prefix('x')
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|n| *n <= 30)
        .ok_or_else(|| {
            MachineError::Register(
                name.into(),
                "not a 64-bit AArch64 register (x0..x30)".into(),
            )
        })?;
    if n == 18 || n >= 25 {
        return Err(MachineError::Register(
            name.into(),
            "vectors may load x0 to x17 and x19 to x24 (the others belong to the harness)".into(),
        ));
    }
    Ok(n)
}

/// The assembly text of a batch, and for each line of code under test its
/// line number in that text.
fn source(batch: &Batch) -> Result<(String, Vec<(usize, String)>), MachineError> {
    let regs = batch
        .regs()
        .iter()
        .map(|r| batch_register(r))
        .collect::<Result<Vec<_>, _>>()?;
    let Layout {
        stride,
        flags_in,
        memory_in,
        out,
        flags_out,
        memory_out,
        fault,
        memory,
        ..
    } = batch.layout();
    // x25 := the memory window's address.
    let mut window = String::new();
    for k in 0..4 {
        let part = (MEMORY_WINDOW >> (16 * k)) & 0xffff;
        let op = if k == 0 { "movz" } else { "movk" };
        let _ = writeln!(window, "\t{op} x25, #{part}, lsl #{}", 16 * k);
    }
    let mut s = String::new();
    let mut lines = Vec::new();
    s.push_str(
        "\t.text\n\t.globl run\nrun:\n\
         \tstp x29, x30, [sp, #-96]!\n\tstp x19, x20, [sp, #16]\n\
         \tstp x21, x22, [sp, #32]\n\tstp x23, x24, [sp, #48]\n\
         \tstp x25, x26, [sp, #64]\n\tstp x27, x28, [sp, #80]\n\tmov x28, x0\n",
    );
    for (gi, g) in batch.groups().iter().enumerate() {
        if g.count == 0 {
            continue;
        }
        let mut count = g.count;
        // One loop per 65535 vectors: the count is a 16-bit MOVZ.
        while count > 0 {
            let now = count.min(0xffff);
            count -= now;
            let top = format!(".Lg{gi}_{count}_top");
            let resume = format!(".Lg{gi}_{count}_resume");
            let _ = writeln!(s, "\tmovz x27, #{now}\n\tadr x26, {resume}\n{top}:");
            // The memory image into the window, through x0 (loaded from
            // the record afterwards).
            if memory > 0 {
                s.push_str(&window);
                for k in 0..memory {
                    let _ = writeln!(
                        s,
                        "\tldr x0, [x28, #{}]\n\tstr x0, [x25, #{}]",
                        memory_in + 8 * k,
                        8 * k
                    );
                }
            }
            let _ = writeln!(s, "\tldr x25, [x28, #{flags_in}]\n\tmsr nzcv, x25");
            for (j, r) in regs.iter().enumerate() {
                let _ = writeln!(s, "\tldr x{r}, [x28, #{}]", 8 * j);
            }
            for line in &g.code {
                if line.contains('\n') || line.contains(';') {
                    return Err(MachineError::Assemble {
                        line: line.clone(),
                        message: "one instruction per line".into(),
                    });
                }
                lines.push((s.lines().count() + 1, line.clone()));
                let _ = writeln!(s, "\t{line}");
            }
            let _ = writeln!(s, "\tmrs x25, nzcv\n\tstr x25, [x28, #{flags_out}]");
            for (j, r) in regs.iter().enumerate() {
                let _ = writeln!(s, "\tstr x{r}, [x28, #{}]", out + 8 * j);
            }
            // The window back into the record.
            if memory > 0 {
                s.push_str(&window);
                for k in 0..memory {
                    let _ = writeln!(
                        s,
                        "\tldr x0, [x25, #{}]\n\tstr x0, [x28, #{}]",
                        8 * k,
                        memory_out + 8 * k
                    );
                }
            }
            let _ = writeln!(
                s,
                "\tstr xzr, [x28, #{fault}]\n{resume}:\n\tadd x28, x28, #{stride}\n\
                 \tsubs x27, x27, #1\n\tb.ne {top}"
            );
        }
    }
    s.push_str(
        "\tldp x19, x20, [sp, #16]\n\tldp x21, x22, [sp, #32]\n\
         \tldp x23, x24, [sp, #48]\n\tldp x25, x26, [sp, #64]\n\
         \tldp x27, x28, [sp, #80]\n\tldp x29, x30, [sp], #96\n\tret\n",
    );
    Ok((s, lines))
}

impl Qemu {
    /// Finds the tools and builds the runner; the emulator starts with the
    /// first batch.
    pub fn new() -> Result<Qemu, MachineError> {
        let tools = Tools::find()?;
        let runner = runner(&tools)?;
        Ok(Qemu {
            tools,
            runner,
            work: WorkDir::new()?,
            emulator: None,
        })
    }

    /// Assembles `text` into the bytes of its `.text` section; `lines`
    /// maps line numbers of errors back to the code under test.
    fn assemble(&self, text: &str, lines: &[(usize, String)]) -> Result<Vec<u8>, MachineError> {
        let src = self.work.0.join("batch.s");
        let obj = self.work.0.join("batch.o");
        let bin = self.work.0.join("batch.bin");
        std::fs::write(&src, text).map_err(|e| io("cannot write the assembly", e))?;
        let out = Command::new(&self.tools.assembler)
            .arg("-o")
            .arg(&obj)
            .arg(&src)
            .output()
            .map_err(|e| io("cannot run the assembler", e))?;
        if !out.status.success() {
            return Err(assembler_error(
                &String::from_utf8_lossy(&out.stderr),
                lines,
            ));
        }
        let out = Command::new(&self.tools.objcopy)
            .args(["-O", "binary", "-j", ".text"])
            .arg(&obj)
            .arg(&bin)
            .output()
            .map_err(|e| io("cannot run objcopy", e))?;
        if !out.status.success() {
            return Err(MachineError::Crashed(format!(
                "objcopy failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        std::fs::read(&bin).map_err(|e| io("cannot read the assembled code", e))
    }

    fn emulator(&mut self) -> Result<&mut Emulator, MachineError> {
        if self.emulator.is_none() {
            let log = std::fs::File::create(self.work.0.join("stderr"))
                .map_err(|e| io("cannot create the emulator's log", e))?;
            let mut child = Command::new(&self.tools.qemu)
                .arg(&self.runner)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .map_err(|e| io("cannot start qemu-aarch64", e))?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                let _ = child.kill();
                return Err(MachineError::Crashed("no pipes to qemu-aarch64".into()));
            };
            self.emulator = Some(Emulator {
                child,
                stdin,
                stdout,
            });
        }
        Ok(self.emulator.as_mut().expect("started above"))
    }

    /// Sends one batch and reads its records back.
    fn exchange(
        &mut self,
        code: &[u8],
        records: &mut [u64],
        stride: usize,
        memory: bool,
    ) -> Result<(), MachineError> {
        let emu = self.emulator()?;
        let header = [
            MAGIC,
            code.len() as u64,
            (records.len() / stride) as u64,
            stride as u64,
            (stride - 1) as u64,
            if memory { MEMORY_PAGE } else { 0 },
        ];
        let mut bytes = Vec::with_capacity(8 * header.len() + code.len() + records.len() * 8);
        for w in header {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.extend_from_slice(code);
        for w in records.iter() {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let sent = emu.stdin.write_all(&bytes).and_then(|_| emu.stdin.flush());
        let mut back = vec![0u8; records.len() * 8];
        let got = sent.and_then(|_| emu.stdout.read_exact(&mut back));
        if let Err(e) = got {
            let status = emu.child.wait().ok();
            self.emulator = None;
            let log = std::fs::read_to_string(self.work.0.join("stderr")).unwrap_or_default();
            return Err(MachineError::Crashed(format!(
                "qemu-aarch64 stopped ({}; {e}){}",
                status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no status".into()),
                if log.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", log.trim())
                }
            )));
        }
        for (w, b) in records.iter_mut().zip(back.chunks_exact(8)) {
            *w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
        Ok(())
    }
}

/// The first error `as` reported, attributed to the line of code it is about.
fn assembler_error(stderr: &str, lines: &[(usize, String)]) -> MachineError {
    for l in stderr.lines() {
        // `batch.s:12: Error: ...`
        let mut parts = l.splitn(3, ':');
        let (Some(_), Some(num), Some(msg)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(num) = num.trim().parse::<usize>() else {
            continue;
        };
        let line = lines
            .iter()
            .find(|(n, _)| *n == num)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| format!("line {num} of the harness"));
        let msg = msg.trim();
        return MachineError::Assemble {
            line,
            message: msg.strip_prefix("Error: ").unwrap_or(msg).to_string(),
        };
    }
    MachineError::Assemble {
        line: String::new(),
        message: stderr.trim().to_string(),
    }
}

impl Machine for Qemu {
    fn name(&self) -> String {
        format!("AArch64 ({})", self.tools.qemu.display())
    }

    fn run(&mut self, batch: &Batch) -> Result<Outcomes, MachineError> {
        let (text, lines) = source(batch)?;
        let code = self.assemble(&text, &lines)?;
        let layout = batch.layout();
        let stride = layout.words();
        let (flags_in, flags_out) = (layout.flags_in / 8, layout.flags_out / 8);
        let mut records = batch.records();
        for rec in records.chunks_exact_mut(stride) {
            rec[flags_in] &= flags::A64_NZCV;
        }
        if !records.is_empty() {
            self.exchange(&code, &mut records, stride, batch.has_memory())?;
        }
        for rec in records.chunks_exact_mut(stride) {
            rec[flags_out] &= flags::A64_NZCV;
        }
        Outcomes::from_records(layout, records)
    }

    fn listing(&mut self, code: &[String]) -> Result<String, MachineError> {
        let mut text = String::from("\t.text\n");
        let mut lines = Vec::new();
        for line in code {
            lines.push((text.lines().count() + 1, line.clone()));
            let _ = writeln!(text, "\t{line}");
        }
        let bytes = self.assemble(&text, &lines)?;
        let words: Vec<String> = bytes
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                format!("{:08x}", u32::from_le_bytes(w))
            })
            .collect();
        if words.len() == code.len() {
            Ok(code
                .iter()
                .zip(&words)
                .map(|(l, w)| format!("{l}  ({w})"))
                .collect::<Vec<_>>()
                .join("\n"))
        } else {
            Ok(format!("{}  ({})", code.join("; "), words.join(" ")))
        }
    }
}

/// Whether the tools are installed (the runner is not built).
pub fn available() -> Result<(), MachineError> {
    Tools::find().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_registers_are_refused() {
        assert!(batch_register("x28").is_err());
        assert!(batch_register("x18").is_err());
        assert!(batch_register("sp").is_err());
        assert_eq!(batch_register("x24"), Ok(24));
    }

    #[test]
    fn assembler_errors_name_the_line() {
        let e = assembler_error(
            "Assembler messages:\n/tmp/batch.s:12: Error: bad thing `foo'\n",
            &[(12, "foo w0".into())],
        );
        assert_eq!(
            e,
            MachineError::Assemble {
                line: "foo w0".into(),
                message: "bad thing `foo'".into()
            }
        );
    }

    /// Runs only where the tools are installed; the conformance tests of
    /// `loweq-conform` say loudly when they are not.
    #[test]
    fn runs_vectors_under_qemu_when_installed() {
        let Ok(mut m) = Qemu::new() else {
            eprintln!("skipped: qemu-aarch64 or the AArch64 binutils are not installed");
            return;
        };
        let mut b = Batch::new(vec!["x0".into(), "x1".into(), "x2".into()]);
        b.group(vec!["add w0, w1, w2".into()]);
        b.push(&[u64::MAX, 0xffff_ffff_0000_0001, 0x1_ffff_ffff], 0);
        b.group(vec!["adds x0, x1, x2".into()]);
        b.push(&[0, u64::MAX, 1], 0);
        b.group(vec!["udf #0".into()]);
        b.push(&[0, 0, 0], flags::A64_NZCV);
        let out = m.run(&b).unwrap();
        assert_eq!(out.get(0).regs, &[0, 0xffff_ffff_0000_0001, 0x1_ffff_ffff]);
        assert_eq!(out.get(1).regs[0], 0);
        assert_eq!(out.get(1).flags, flags::A64_Z | flags::A64_C);
        assert_eq!(out.get(2).fault, Some(crate::Fault(libc::SIGILL)));
        let l = m.listing(&["add w0, w1, w2".into()]).unwrap();
        assert_eq!(l, "add w0, w1, w2  (0b020020)");
        // Memory: a sign-extending byte load, a halfword store, and a
        // store running into the page after the window.
        let w = MEMORY_WINDOW;
        let mut b = Batch::with_memory(vec!["x0".into(), "x1".into()]);
        b.group(vec!["ldrsb x0, [x1, #1]".into()]);
        b.push_with_memory(&[0, w], 0, &[0, 0x80]);
        b.group(vec!["strh w0, [x1, #-2]".into()]);
        b.push_with_memory(&[0xabcd, w + 4], 0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        b.push_with_memory(&[0xabcd, w + crate::MEMORY_BYTES as u64 + 1], 0, &[]);
        let out = m.run(&b).unwrap();
        assert_eq!(out.get(0).regs[0], 0xffff_ffff_ffff_ff80);
        assert_eq!(
            &out.get(1).memory_bytes()[..8],
            &[1, 2, 0xcd, 0xab, 5, 6, 7, 8]
        );
        assert_eq!(out.get(2).fault, Some(crate::Fault(libc::SIGSEGV)));
    }
}
