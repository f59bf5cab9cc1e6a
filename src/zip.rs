//! Writing a `.zip` archive of stored (uncompressed) files, which every unzip tool reads: the
//! exported PyTorch project is one. Reading archives is the page's (`www/engine/archive.js`).

/// The CRC-32 (IEEE) of `bytes`, as zip records it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    !bytes
        .iter()
        .fold(!0u32, |c, &b| table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8))
}

/// An archive of `files` (path, contents) in that order, each stored as it is, dated 1 January
/// 1980 (zip's first day) so that the same files give the same bytes.
pub fn stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (path, contents) in files {
        let offset = out.len() as u32;
        let (crc, size, name) = (crc32(contents), contents.len() as u32, path.as_bytes());
        // Local header: signature, version 2.0, flags (bit 11: UTF-8 names), stored, time, date.
        le32(&mut out, 0x0403_4b50);
        for v in [20, 1 << 11, 0, 0, 0x21] {
            le16(&mut out, v);
        }
        for v in [crc, size, size] {
            le32(&mut out, v);
        }
        le16(&mut out, name.len() as u16);
        le16(&mut out, 0);
        out.extend_from_slice(name);
        out.extend_from_slice(contents);
        // Its central directory entry.
        le32(&mut directory, 0x0201_4b50);
        for v in [20, 20, 1 << 11, 0, 0, 0x21] {
            le16(&mut directory, v);
        }
        for v in [crc, size, size] {
            le32(&mut directory, v);
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            le16(&mut directory, v);
        }
        le32(&mut directory, 0);
        le32(&mut directory, offset);
        directory.extend_from_slice(name);
    }
    let (at, size) = (out.len() as u32, directory.len() as u32);
    out.extend_from_slice(&directory);
    le32(&mut out, 0x0605_4b50);
    for v in [0, 0, files.len() as u16, files.len() as u16] {
        le16(&mut out, v);
    }
    le32(&mut out, size);
    le32(&mut out, at);
    le16(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zips() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn an_archive_lists_its_files_in_order_with_their_bytes() {
        let zip = stored(&[("a.txt", b"hello"), ("dir/b.py", b"print(1)\n")]);
        assert_eq!(&zip[..4], &0x0403_4b50u32.to_le_bytes());
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], &0x0605_4b50u32.to_le_bytes());
        assert_eq!(u16::from_le_bytes([zip[end + 10], zip[end + 11]]), 2);
        // The first file's name and contents follow its 30-byte header.
        assert_eq!(&zip[30..35], b"a.txt");
        assert_eq!(&zip[35..40], b"hello");
        let directory = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&zip[directory..directory + 4], &0x0201_4b50u32.to_le_bytes());
    }
}
