;; GF(2⁸) (poly 0x11D) multiply-accumulate with 128-bit SIMD, the kernel of reed-solomon.ts.
;; Compiled by `npm run build:wasm` (tools/build-wasm.ts) into gf256-simd-wasm.ts; edit this file, not that one.
;;
;; Split-nibble method: c · x = c · (x & 15) ⊕ c · (x >> 4 << 4), and each half takes 16 values, so two
;; 16-byte tables per coefficient c (T_lo[i] = c · i, T_hi[i] = c · (i << 4)) and one i8x16.swizzle each
;; multiply 16 bytes at once. The JS side writes the tables and copies rows into this memory.
(module
  (memory (export "memory") 1)

  ;; For every 16-byte block k of [in, in + len):  out_r[k] ⊕= T_lo[r][x & 15] ⊕ T_hi[r][x >> 4]
  ;; for r = 0 … count − 1, where x = in[k], out_r = out + r · stride, and T_lo[r] / T_hi[r] are the 32
  ;; bytes at tables + 32 r. Each input block is loaded and split once for all outputs (the fused form
  ;; rsEncode needs). len must be a multiple of 16 (the caller pads its regions) and count ≥ 1.
  (func (export "mulAdd") (param $in i32) (param $len i32) (param $out i32) (param $stride i32) (param $count i32) (param $tables i32)
    (local $end i32) (local $lo v128) (local $hi v128) (local $x v128) (local $o i32) (local $t i32) (local $tend i32)
    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (local.set $tend (i32.add (local.get $tables) (i32.shl (local.get $count) (i32.const 5))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        (local.set $x (v128.load (local.get $in)))
        (local.set $lo (v128.and (local.get $x) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (i8x16.shr_u (local.get $x) (i32.const 4)))
        (local.set $o (local.get $out))
        (local.set $t (local.get $tables))
        (loop $rows
          (v128.store (local.get $o)
            (v128.xor
              (v128.load (local.get $o))
              (v128.xor
                (i8x16.swizzle (v128.load (local.get $t)) (local.get $lo))
                (i8x16.swizzle (v128.load offset=16 (local.get $t)) (local.get $hi)))))
          (local.set $o (i32.add (local.get $o) (local.get $stride)))
          (local.set $t (i32.add (local.get $t) (i32.const 32)))
          (br_if $rows (i32.lt_u (local.get $t) (local.get $tend))))
        (local.set $in (i32.add (local.get $in) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $blocks))))

  ;; mulAdd for count = 2 (p = 2, the default): both rows' tables stay in registers and there is no row loop
  ;; (~18% faster than mulAdd at p = 2, bench:parity).
  (func (export "mulAdd2") (param $in i32) (param $len i32) (param $out i32) (param $stride i32) (param $tables i32)
    (local $end i32) (local $lo v128) (local $hi v128) (local $x v128) (local $o2 i32)
    (local $a_lo v128) (local $a_hi v128) (local $b_lo v128) (local $b_hi v128)
    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (local.set $a_lo (v128.load (local.get $tables)))
    (local.set $a_hi (v128.load offset=16 (local.get $tables)))
    (local.set $b_lo (v128.load offset=32 (local.get $tables)))
    (local.set $b_hi (v128.load offset=48 (local.get $tables)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        (local.set $x (v128.load (local.get $in)))
        (local.set $lo (v128.and (local.get $x) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (i8x16.shr_u (local.get $x) (i32.const 4)))
        (v128.store (local.get $out)
          (v128.xor (v128.load (local.get $out))
            (v128.xor (i8x16.swizzle (local.get $a_lo) (local.get $lo)) (i8x16.swizzle (local.get $a_hi) (local.get $hi)))))
        (local.set $o2 (i32.add (local.get $out) (local.get $stride)))
        (v128.store (local.get $o2)
          (v128.xor (v128.load (local.get $o2))
            (v128.xor (i8x16.swizzle (local.get $b_lo) (local.get $lo)) (i8x16.swizzle (local.get $b_hi) (local.get $hi)))))
        (local.set $in (i32.add (local.get $in) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $blocks))))
)
