//! A reproducible ZIP archive: entries stored (not compressed), in the order
//! given (sorted by the caller), every timestamp 1980-01-01 00:00, mode
//! 0644, no extra fields. The same files always give the same bytes, so the
//! same SHA-256. Stored entries are what Python's `zipimport` (`--py-files`)
//! and Java's class loaders read; ZIP64 is not needed below 4 GiB, and
//! artifacts are far smaller (`MAX_ARTIFACT_BYTES`).

/// CRC-32 (IEEE 802.3, reflected, as ZIP uses it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, entry) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

/// DOS date of 1980-01-01 (the earliest a ZIP can hold); time 00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// Made by Unix (3), ZIP 2.0.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const VERSION_NEEDED: u16 = 20;
/// Bit 11: names are UTF-8.
const FLAGS: u16 = 1 << 11;
/// A regular file, mode 0644, in the high half of the external attributes.
const EXTERNAL_ATTRIBUTES: u32 = (0o100644u32) << 16;

/// The archive of `entries` (`(name, bytes)`), in the order given.
pub(super) fn stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in entries {
        let offset = out.len() as u32;
        let crc = crc32(body);
        let size = body.len() as u32;
        let name_bytes = name.as_bytes();
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        out.extend_from_slice(&FLAGS.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name_bytes);
        out.extend_from_slice(body);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        central.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        central.extend_from_slice(&FLAGS.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&EXTERNAL_ATTRIBUTES.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name_bytes);
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The entry names of an archive made by [`stored`], for tests.
#[cfg(test)]
pub(crate) fn names(archive: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while archive.len() >= at + 30 && archive[at..at + 4] == 0x0403_4b50u32.to_le_bytes() {
        let size =
            u32::from_le_bytes([archive[at + 18], archive[at + 19], archive[at + 20], archive[at + 21]]) as usize;
        let name_length = u16::from_le_bytes([archive[at + 26], archive[at + 27]]) as usize;
        out.push(String::from_utf8_lossy(&archive[at + 30..at + 30 + name_length]).into_owned());
        at += 30 + name_length + size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn python_reads_the_archive() {
        // The archive's structure, checked by a reader other than ours when
        // one is installed (CI images have python3).
        let archive = stored(&[
            ("a.txt".into(), b"hello".to_vec()),
            ("pkg/b.py".into(), b"x = 1\n".to_vec()),
        ]);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &archive).expect("write");
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(','.join(z.namelist()), z.read('pkg/b.py').decode().strip(), z.getinfo('a.txt').date_time)";
        match std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .output()
        {
            Ok(output) => {
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
                assert_eq!(
                    String::from_utf8_lossy(&output.stdout).trim(),
                    "a.txt,pkg/b.py x = 1 (1980, 1, 1, 0, 0, 0)"
                );
            }
            Err(_) => assert_eq!(names(&archive), vec!["a.txt", "pkg/b.py"]),
        }
    }
}
