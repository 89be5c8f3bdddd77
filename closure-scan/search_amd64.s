#include "textflag.h"

// Nibble tables of storefs.Base32 ('0'-'9', 'a'-'z' without e, o, t, u),
// twice over for VPSHUFB's two lanes. A byte is base32 when
// base32Lo[its low nibble] & base32Hi[its high nibble] is not 0: the bits
// are the high nibbles 3 ('0'-'9'), 6 ('a'-'o') and 7 ('p'-'z'), and
// base32Lo has a nibble's bit where that row holds a base32 byte.
// VPSHUFB gives 0 for a byte of 0x80 or more: never base32.
//	lo:  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f
//	     05 07 07 07 03 01 07 07 07 07 06 02 02 02 02 00
DATA base32Lo<>+0(SB)/8, $0x0707010307070705
DATA base32Lo<>+8(SB)/8, $0x0002020202060707
DATA base32Lo<>+16(SB)/8, $0x0707010307070705
DATA base32Lo<>+24(SB)/8, $0x0002020202060707
GLOBL base32Lo<>(SB), RODATA|NOPTR, $32

DATA base32Hi<>+0(SB)/8, $0x0402000001000000
DATA base32Hi<>+8(SB)/8, $0
DATA base32Hi<>+16(SB)/8, $0x0402000001000000
DATA base32Hi<>+24(SB)/8, $0
GLOBL base32Hi<>(SB), RODATA|NOPTR, $32

DATA lowNibbles<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL lowNibbles<>(SB), RODATA|NOPTR, $32

// func firstWindowAVX2(s *byte, n int) int
// n is a multiple of 32, at least 32.
//
// Each block of 32 bytes becomes a mask with a bit set for each byte that
// is not base32. A window ends in the block when the base32 bytes at its
// start (TZCNT of the mask, 32 if all) reach hashLen counted from the last
// byte of the block before that is not base32: at R8 (BSR of that block's
// mask, 31 - R8 base32 bytes after it), so when TZCNT > R8. R8 starts at
// 31, as if the byte before s were not base32. The window starts at
// R8 + 1 in the block before, R8 - 31 from the block's start.
TEXT ·firstWindowAVX2(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), SI
	MOVQ n+8(FP), DX
	VMOVDQU base32Lo<>(SB), Y13
	VMOVDQU base32Hi<>(SB), Y14
	VMOVDQU lowNibbles<>(SB), Y15
	VPXOR   Y12, Y12, Y12
	XORQ    BX, BX     // the block's offset
	MOVL    $31, R8

loop:
	VMOVDQU   (SI)(BX*1), Y0
	VPSRLW    $4, Y0, Y1
	VPAND     Y15, Y1, Y1
	VPSHUFB   Y0, Y13, Y2
	VPSHUFB   Y1, Y14, Y1
	VPAND     Y1, Y2, Y1
	VPCMPEQB  Y12, Y1, Y1 // all ones where a byte is not base32
	VPMOVMSKB Y1, AX
	TZCNTL    AX, CX
	CMPL      CX, R8
	JA        found
	BSRL      AX, R8      // AX is not 0: TZCNT was at most 31
	ADDQ      $32, BX
	CMPQ      BX, DX
	JB        loop
	MOVQ      $-1, ret+16(FP)
	VZEROUPPER
	RET

found:
	LEAQ -31(BX)(R8*1), AX
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET
