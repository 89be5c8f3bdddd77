#include "textflag.h"

// func or3AVX2(dst, x, a, b *uint64, n int)
// n is a multiple of 4.
TEXT ·or3AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ a+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), R10
	SHLQ $3, R10
	XORQ BX, BX

or3loop:
	CMPQ BX, R10
	JAE  or3done
	VMOVDQU (SI)(BX*1), Y0
	VPOR    (R8)(BX*1), Y0, Y0
	VPOR    (R9)(BX*1), Y0, Y0
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	JMP     or3loop

or3done:
	VZEROUPPER
	RET

// func orDiffAVX2(row, x, a, b, base, diff *uint64, n int) uint64
// n is a multiple of 4, at most 64.
TEXT ·orDiffAVX2(SB), NOSPLIT, $0-64
	MOVQ row+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ a+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ base+32(FP), R10
	MOVQ diff+40(FP), R11
	MOVQ n+48(FP), R12
	XORQ AX, AX          // the mask
	XORQ CX, CX          // the word index k (the shift count)
	VPXOR Y7, Y7, Y7

difloop:
	CMPQ CX, R12
	JAE  difdone
	VMOVDQU  (SI)(CX*8), Y0
	VPOR     (R8)(CX*8), Y0, Y0
	VPOR     (R9)(CX*8), Y0, Y0
	VMOVDQU  Y0, (DI)(CX*8)
	VMOVDQU  (R10)(CX*8), Y1
	VPANDN   Y0, Y1, Y2  // ^base & row
	VMOVDQU  Y2, (R11)(CX*8)
	VPCMPEQQ Y7, Y2, Y3  // all ones where a word of diff is 0
	VMOVMSKPD Y3, DX
	XORQ     $15, DX
	SHLQ     CX, DX
	ORQ      DX, AX
	ADDQ     $4, CX
	JMP      difloop

difdone:
	VZEROUPPER
	MOVQ AX, ret+56(FP)
	RET


// func sumBitsAVX512(weights, diff *uint64, mask uint64) (sum uint64, ones int)
// For each bit k of mask, adds the weights of the bits of diff[k] (word k's
// 64 weights at weights[64k:]) modulo 2^64, eight at a time under a mask
// register: eight adds a word whatever its bits, and no branch on them.
TEXT ·sumBitsAVX512(SB), NOSPLIT, $0-40
	MOVQ   weights+0(FP), SI
	MOVQ   diff+8(FP), DI
	MOVQ   mask+16(FP), AX
	XORQ   BX, BX             // ones
	VPXORQ Z0, Z0, Z0         // eight partial sums

sumloop:
	TESTQ    AX, AX
	JZ       sumdone
	TZCNTQ   AX, CX           // k
	MOVQ     (DI)(CX*8), DX   // diff[k]
	POPCNTQ  DX, R8
	ADDQ     R8, BX
	KMOVQ    DX, K1
	SHLQ     $9, CX           // 64 weights of 8 bytes
	LEAQ     (SI)(CX*1), R9
	VPADDQ   (R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   64(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   128(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   192(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   256(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   320(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   384(R9), Z0, K1, Z0
	KSHIFTRQ $8, K1, K1
	VPADDQ   448(R9), Z0, K1, Z0
	LEAQ     -1(AX), R10      // clear the lowest bit of mask
	ANDQ     R10, AX
	JMP      sumloop

sumdone:
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	VZEROUPPER
	MOVQ          AX, sum+24(FP)
	MOVQ          BX, ones+32(FP)
	RET

// func prefetchRow(p *uint64)
// Asks for the five cache lines from p (a row of up to 32 words, 256
// bytes, starting anywhere in a line) to be fetched into the cache. A
// hint: it never faults, so the lines may pass the end of the rows.
TEXT ·prefetchRow(SB), NOSPLIT, $0-8
	MOVQ       p+0(FP), AX
	PREFETCHT0 (AX)
	PREFETCHT0 64(AX)
	PREFETCHT0 128(AX)
	PREFETCHT0 192(AX)
	PREFETCHT0 256(AX)
	RET
