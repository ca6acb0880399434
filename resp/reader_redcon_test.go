package resp

import (
	"runtime"
	"testing"

	"github.com/tidwall/redcon"
)

// BenchmarkTrickleRedcon feeds redcon's Reader a 256 KiB value one byte per
// Read, for comparison with BenchmarkTrickle and TestReaderTrickle. It
// reports the goroutine stack in use afterwards: redcon re-enters
// readCommands once per Read until the command is complete, about 1 KiB of
// stack each. Do not raise the size past 512 KiB: at 1 MiB the process dies
// of a stack overflow, which no recover catches.
//
//	go test -run XXX -bench TrickleRedcon -benchtime 1x ./resp/
func BenchmarkTrickleRedcon(b *testing.B) {
	in := bigSet(256 << 10)
	b.ReportAllocs()
	var stack uint64
	for b.Loop() {
		rd := redcon.NewReader(&trickle{in})
		cmds, err := rd.ReadCommands()
		if err != nil || len(cmds) != 1 {
			b.Fatalf("%d commands, %v", len(cmds), err)
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		stack = max(stack, m.StackInuse)
	}
	b.ReportMetric(float64(stack)/(1<<20), "MiB-stack")
}
