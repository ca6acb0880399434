package cluster

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"testing"
)

const benchStoreKeys = 1 << 20

// benchKey writes a 16-byte key for i into k.
func benchKey(k []byte, i uint64) []byte {
	binary.LittleEndian.PutUint64(k, i)
	binary.LittleEndian.PutUint64(k[8:], i*0x9E3779B97F4A7C15)
	return k
}

func filledStore(b *testing.B, cfg StoreConfig) *Store {
	b.Helper()
	s := newStore(b, cfg)
	key, val := make([]byte, 16), make([]byte, 100)
	for i := range uint64(benchStoreKeys) {
		sh := s.Lock(benchKey(key, i))
		sh.Set(key, val, 0)
		sh.Unlock()
	}
	return s
}

func BenchmarkStoreGetParallel(b *testing.B) {
	s := filledStore(b, StoreConfig{})
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key, out := make([]byte, 16), make([]byte, 0, 128)
		i := seed.Add(1) << 40
		for pb.Next() {
			i++
			benchKey(key, (i*0x9E3779B97F4A7C15)%benchStoreKeys)
			sh := s.Lock(key)
			it, ok := sh.Get(key, 0)
			out = append(out[:0], it.Value...)
			sh.Unlock()
			if !ok {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkStoreSetParallel(b *testing.B) {
	s := filledStore(b, StoreConfig{})
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key, val := make([]byte, 16), make([]byte, 100)
		i := seed.Add(1) << 40
		for pb.Next() {
			i++
			benchKey(key, (i*0x9E3779B97F4A7C15)%benchStoreKeys)
			sh := s.Lock(key)
			sh.Set(key, val, 0)
			sh.Unlock()
		}
	})
}

// BenchmarkStoreSetEvictParallel writes new keys into a store at its limit.
func BenchmarkStoreSetEvictParallel(b *testing.B) {
	s := filledStore(b, StoreConfig{MaxBytes: benchStoreKeys * (16 + 100 + 64)})
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key, val := make([]byte, 16), make([]byte, 100)
		i := seed.Add(1) << 40
		for pb.Next() {
			i++
			sh := s.Lock(benchKey(key, i))
			sh.Set(key, val, 0)
			sh.Unlock()
		}
	})
	if s.Bytes() > s.MaxBytes() {
		b.Fatalf("Bytes %d > MaxBytes %d", s.Bytes(), s.MaxBytes())
	}
}

// BenchmarkStoreMemory stores 1,000,000 keys of 16 bytes with 100-byte
// values and reports the process RSS and Go heap they cost per key. Run it
// alone, once:
//
//	go test ./cluster -run '^$' -bench StoreMemory -benchtime 1x
func BenchmarkStoreMemory(b *testing.B) {
	const keys = 1_000_000
	key, val := make([]byte, 16), make([]byte, 100)
	for b.Loop() {
		rss0, heap0 := memNow(b)
		s := newStore(b, StoreConfig{})
		for i := range uint64(keys) {
			sh := s.Lock(benchKey(key, i))
			sh.Set(key, val, 0)
			sh.Unlock()
		}
		rss1, heap1 := memNow(b)
		b.ReportMetric(float64(rss1-rss0)/keys, "rss-B/key")
		b.ReportMetric(float64(heap1-heap0)/keys, "heap-B/key")
		b.ReportMetric(float64(s.Allocated())/keys, "allocated-B/key")
		b.ReportMetric(float64(s.Bytes())/keys, "accounted-B/key")
		if s.Len() != keys {
			b.Fatalf("Len = %d", s.Len())
		}
		runtime.KeepAlive(s)
	}
}

// BenchmarkStoreMemoryChurn keeps a store with MaxBytes 256 MiB at its limit
// under writes of new keys and overwrites with values of changing size, and
// reports the process RSS (now and at its peak, after resetting the peak)
// and the real allocation against MaxBytes. GOGC and GOMEMLIMIT in the
// environment apply. Run it alone, once:
//
//	go test ./cluster -run '^$' -bench StoreMemoryChurn -benchtime 1x
func BenchmarkStoreMemoryChurn(b *testing.B) {
	const limit = 256 << 20
	key, val := make([]byte, 16), make([]byte, 200)
	for b.Loop() {
		rss0, _ := memNow(b)
		resetPeak(b)
		s := newStore(b, StoreConfig{MaxBytes: limit})
		for i := range uint64(6_000_000) {
			k := i
			if i%2 == 1 {
				k = i * 0x9E3779B97F4A7C15 % (i + 1) // overwrite an older key
			}
			sh := s.Lock(benchKey(key, k))
			sh.Set(key, val[:50+i*7919%150], 0)
			sh.Unlock()
		}
		peak := procStatus(b, "VmHWM:")
		rss1, heap1 := memNow(b)
		b.ReportMetric(float64(rss1-rss0)/limit, "rss/max")
		b.ReportMetric(float64(peak-rss0)/limit, "peak-rss/max")
		b.ReportMetric(float64(heap1)/limit, "heap/max")
		b.ReportMetric(float64(s.Allocated())/limit, "allocated/max")
		runtime.KeepAlive(s)
	}
}

// resetPeak resets the process's peak RSS (VmHWM), see proc(5) clear_refs.
func resetPeak(tb testing.TB) {
	tb.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatal(err)
	}
}

// memNow returns the resident set size from /proc/self/status and the Go
// heap in use, after a full GC that returns free memory to the OS.
func memNow(tb testing.TB) (rss, heap int64) {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return procStatus(tb, "VmRSS:"), int64(ms.HeapInuse)
}

// procStatus returns a size field of /proc/self/status in bytes.
func procStatus(tb testing.TB, field string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte(field)); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(v, []byte("kB")))), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}
