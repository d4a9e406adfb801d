// Package processor is the fund's processing side (SPEC §1 processor, §3; PRC-01…PRC-10, DEF-10…DEF-12).
package processor
