//! LZF compression as Redis uses it for RDB strings (liblzf 3.6's lzf_c.c /
//! lzf_d.c with Redis's settings: `HLOG 16`, `VERY_FAST 1`).
//!
//! The compressor reproduces Redis's output byte for byte (its hash table starts
//! empty, which is what Redis's uninitialised table amounts to in practice), so
//! keel's DUMP payloads and DEBUG OBJECT `serializedlength` match Redis's. The
//! decompressor checks every reference and every length against its input and
//! output bounds and never writes past the declared size.
//!
//! Compressed format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a back
//! reference of L+2 bytes at distance o+1; `111ooooo LLLLLLLL oooooooo` one of
//! L+9 bytes.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// The most one compressed byte can expand to: a 3-byte back reference yields
/// up to 264 bytes. A declared length above `clen * MAX_RATIO` cannot be right,
/// which lets the loader refuse it before allocating anything.
pub const MAX_RATIO: usize = 89;

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into at most `out_len` bytes, as `lzf_compress(in, len,
/// out, out_len)` does; `None` when the result would not fit (Redis then stores
/// the string uncompressed).
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    // Positions (in the input) last seen for each hash; 0 never matches because
    // Redis requires `ref > in_data`.
    let mut htab = vec![0u32; HSIZE];
    // Room for the run headers that may be written one past `out_len` before the
    // bound checks, as in the C code (which allocates out_len + 1).
    let mut out = vec![0u8; out_len + 4];
    let at = |p: usize| -> u32 { input.get(p).copied().unwrap_or(0) as u32 };
    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit = 0usize;
    let mut hval = (at(0) << 8) | at(1);
    while ip + 2 < in_len {
        hval = (hval << 8) | at(ip + 2);
        let slot = idx(hval);
        let r = htab[slot] as usize;
        htab[slot] = ip as u32;
        let matched = r < ip
            && ip - r - 1 < MAX_OFF
            && r > 0
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1]
            && input[r + 2] == input[ip + 2];
        if matched {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            // The exact test of "room for the reference": with an empty run
            // its header byte is taken back.
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            if lit == 0 {
                op -= 1; // undo run if length is zero
            }
            'scan: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            break 'scan;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            ip -= 2;
            hval = (at(ip) << 8) | at(ip + 1);
            hval = (hval << 8) | at(ip + 2);
            htab[idx(hval)] = ip as u32;
            ip += 1;
            hval = (hval << 8) | at(ip + 2);
            htab[idx(hval)] = ip as u32;
            ip += 1;
        } else {
            // One more literal byte.
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8; // stop run
                lit = 0;
                op += 1; // start run
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    if lit == 0 {
        op -= 1;
    }
    out.truncate(op);
    Some(out)
}

/// Decompresses `input` into exactly `out_len` bytes; `None` when the data is
/// corrupt or does not decompress to that length. `out_len` must already be
/// checked against [`MAX_RATIO`] by the caller (it is allocated up front).
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if out.len() + n > out_len {
                return None;
            }
            let lits = input.get(ip..ip + n)?;
            out.extend_from_slice(lits);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            back += *input.get(ip)? as usize;
            ip += 1;
            let n = len + 2;
            if out.len() + n > out_len || back >= out.len() {
                return None;
            }
            let start = out.len() - back - 1;
            // Overlapping copies repeat the pattern, byte by byte.
            for k in 0..n {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_output() {
        // Redis 7.0.15: DUMP of "x" * 64 holds this LZF blob.
        let input = vec![b'x'; 64];
        let c = compress(&input, 60).unwrap();
        assert_eq!(c, b"\x01xx\xe0\x33\x00\x01xx");
        assert_eq!(decompress(&c, 64).unwrap(), input);
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut seed = 7u64;
        for n in [21usize, 50, 300, 5000, 70000] {
            let data: Vec<u8> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if i % 7 < 4 {
                        b'a' + (i % 5) as u8
                    } else {
                        (seed >> 56) as u8
                    }
                })
                .collect();
            if let Some(c) = compress(&data, n - 4) {
                assert_eq!(decompress(&c, n).unwrap(), data);
                assert!(decompress(&c, n + 1).is_none());
                assert!(decompress(&c, n - 1).is_none());
                assert!(decompress(&c[..c.len() - 1], n).is_none());
            }
        }
        // A back reference before the start of the output.
        assert!(decompress(&[0x20, 0x05], 10).is_none());
        assert!(decompress(&[0x05, b'a'], 6).is_none());
        // Incompressible data does not fit in len - 4 bytes.
        let noise: Vec<u8> = (0..100u32).map(|i| (i * 97 % 251) as u8).collect();
        assert!(compress(&noise, 96).is_none());
    }
}
