package hash

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// digits hashes "id#i" to the number id·10+i (for one-digit i) and a key
// "27" to 27, so positions on the ring can be worked out by hand.
func digits(tb testing.TB) Hash {
	tb.Helper()
	return func(b []byte) uint64 {
		n, err := strconv.ParseUint(strings.ReplaceAll(string(b), "#", ""), 10, 64)
		if err != nil {
			tb.Fatalf("digits(%q): %v", b, err)
		}
		return n
	}
}

// replicaOnly places virtual node i of every node at point i: every node
// collides with every other at every point.
func replicaOnly(b []byte) uint64 {
	s := string(b)
	n, _ := strconv.ParseUint(s[strings.LastIndexByte(s, '#')+1:], 10, 64)
	return n
}

// coarse keeps 8 bits of xxhash, so 10 nodes × 160 virtual nodes collide often.
func coarse(b []byte) uint64 { return xxhash.Sum64(b) >> 56 }

func TestGetByHand(t *testing.T) {
	// Points: 20 21 22 ("2"), 40 41 42 ("4"), 60 61 62 ("6").
	r := New(3, digits(t), "6", "4", "2")
	// Adding "8" adds 80 81 82: keys past 62 now stop there instead of wrapping.
	r8 := New(3, digits(t), "6", "4", "2", "8")
	tests := []struct {
		key      string
		want     string
		wantN    []string // GetN(key, 3)
		want8    string
		wantN8of []string // r8.GetN(key, 10)
	}{
		{"0", "2", []string{"2", "4", "6"}, "2", []string{"2", "4", "6", "8"}},
		{"20", "2", []string{"2", "4", "6"}, "2", []string{"2", "4", "6", "8"}},
		{"22", "2", []string{"2", "4", "6"}, "2", []string{"2", "4", "6", "8"}},
		{"23", "4", []string{"4", "6", "2"}, "4", []string{"4", "6", "8", "2"}},
		{"42", "4", []string{"4", "6", "2"}, "4", []string{"4", "6", "8", "2"}},
		{"61", "6", []string{"6", "2", "4"}, "6", []string{"6", "8", "2", "4"}},
		{"63", "2", []string{"2", "4", "6"}, "8", []string{"8", "2", "4", "6"}},
		{"83", "2", []string{"2", "4", "6"}, "2", []string{"2", "4", "6", "8"}},
	}
	for _, tt := range tests {
		if got := r.Get([]byte(tt.key)); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got := r.GetString(tt.key); got != tt.want {
			t.Errorf("GetString(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got := r.GetN([]byte(tt.key), 3, nil); !slices.Equal(got, tt.wantN) {
			t.Errorf("GetN(%q, 3) = %q, want %q", tt.key, got, tt.wantN)
		}
		if got := r8.Get([]byte(tt.key)); got != tt.want8 {
			t.Errorf("with 8: Get(%q) = %q, want %q", tt.key, got, tt.want8)
		}
		if got := r8.GetNString(tt.key, 10, nil); !slices.Equal(got, tt.wantN8of) {
			t.Errorf("with 8: GetNString(%q, 10) = %q, want %q", tt.key, got, tt.wantN8of)
		}
	}
}

func TestEmpty(t *testing.T) {
	var zero Map
	emptied := NewMap(0, nil, "a")
	emptied.Set()
	rings := map[string]*Ring{
		"nil":        nil,
		"zero":       {},
		"New()":      New(0, nil),
		"New(\"\")":  New(0, nil, "", ""),
		"zero Map":   zero.Load(),
		"Map set {}": emptied.Load(),
	}
	for name, r := range rings {
		t.Run(name, func(t *testing.T) {
			if got := r.Get([]byte("k")); got != "" {
				t.Errorf("Get = %q, want \"\"", got)
			}
			if got := r.GetString("k"); got != "" {
				t.Errorf("GetString = %q, want \"\"", got)
			}
			dst := []string{"x"}
			if got := r.GetN([]byte("k"), 3, dst); !slices.Equal(got, dst) {
				t.Errorf("GetN = %q, want %q", got, dst)
			}
			if got := r.GetNString("k", 3, nil); len(got) != 0 {
				t.Errorf("GetNString = %q, want none", got)
			}
			if r.Len() != 0 || len(r.Members()) != 0 || r.Has("") || r.Has("a") {
				t.Errorf("Len = %d, Members = %q, want empty", r.Len(), r.Members())
			}
		})
	}
	if got := zero.Get([]byte("k")); got != "" {
		t.Errorf("zero Map: Get = %q, want \"\"", got)
	}
}

func nodeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("10.0.0.%d:7946", i+1)
	}
	return ids
}

func sameRing(tb testing.TB, got, want *Ring) {
	tb.Helper()
	if !slices.Equal(got.nodes, want.nodes) || !slices.Equal(got.points, want.points) ||
		!slices.Equal(got.owners, want.owners) {
		tb.Fatalf("rings differ: nodes %q vs %q, %d vs %d points", got.nodes, want.nodes,
			len(got.points), len(want.points))
	}
}

func TestDeterministic(t *testing.T) {
	hashes := []struct {
		name     string
		fn       Hash
		replicas int
	}{
		{"xxhash", nil, 0},
		{"coarse", coarse, 160},
		{"replicaOnly", replicaOnly, 4},
	}
	for _, h := range hashes {
		t.Run(h.name, func(t *testing.T) {
			ids := nodeIDs(10)
			want := New(h.replicas, h.fn, ids...)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				shuffled := slices.Clone(ids)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				// The same set with repeats, built at once and by a Map one node at a time.
				sameRing(t, New(h.replicas, h.fn, append(shuffled, shuffled[:3]...)...), want)
				m := NewMap(h.replicas, h.fn)
				for _, id := range shuffled {
					m.Add(id, "extra")
				}
				m.Remove("extra")
				sameRing(t, m.Load(), want)
			}
		})
	}
}

func TestCollisions(t *testing.T) {
	// Every node is at points 0, 1 and 2: the smallest id owns each and the
	// others follow it in id order, whatever order the nodes were given in.
	for _, order := range [][]string{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "c", "a"}} {
		r := New(3, replicaOnly, order...)
		if !slices.Equal(r.points, []uint64{0, 0, 0, 1, 1, 1, 2, 2, 2}) {
			t.Fatalf("%q: points %v", order, r.points)
		}
		for _, key := range []string{"k#0", "k#2", "k#3"} {
			if got := r.GetString(key); got != "a" {
				t.Errorf("%q: Get(%q) = %q, want a", order, key, got)
			}
			if got := r.GetNString(key, 5, nil); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Errorf("%q: GetN(%q, 5) = %q, want [a b c]", order, key, got)
			}
		}
	}
	// With many collisions the nodes at one point are in id order (a node
	// may collide with itself: it then appears twice in a row).
	r := New(160, coarse, nodeIDs(10)...)
	for i := 1; i < len(r.points); i++ {
		if r.points[i] == r.points[i-1] && r.owners[i] < r.owners[i-1] {
			t.Fatalf("point %d: owners %d, %d not in id order", r.points[i], r.owners[i-1], r.owners[i])
		}
	}
}

func TestGetN(t *testing.T) {
	r := New(0, nil, nodeIDs(5)...)
	key := []byte("user:1000")
	owner := r.Get(key)
	for _, n := range []int{-1, 0, 1, 2, 5, 6, 100} {
		dst := r.GetN(key, n, []string{"keep"})
		want := min(max(n, 0), 5)
		if dst[0] != "keep" || len(dst) != 1+want {
			t.Fatalf("GetN(%d) = %q, want keep + %d nodes", n, dst, want)
		}
		got := dst[1:]
		if want > 0 && got[0] != owner {
			t.Errorf("GetN(%d)[0] = %q, want owner %q", n, got[0], owner)
		}
		sorted := slices.Sorted(slices.Values(got))
		if len(slices.Compact(sorted)) != len(got) {
			t.Errorf("GetN(%d) = %q: repeats a node", n, got)
		}
		if prefix := r.GetNString(string(key), n-1, nil); len(prefix) > len(got) || !slices.Equal(prefix, got[:len(prefix)]) {
			t.Errorf("GetN(%d) = %q, GetN(%d) = %q: not a prefix", n, got, n-1, prefix)
		}
	}
}

// loads counts, for keys "key:0".."key:n-1", how many each node owns, in
// r's member order.
func loads(r *Ring, n int) []int {
	index := make(map[string]int, r.Len())
	for i, id := range r.Members() {
		index[id] = i
	}
	counts := make([]int, r.Len())
	var key []byte
	for i := range n {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		counts[index[r.Get(key)]]++
	}
	return counts
}

func maxOverMean(counts []int) float64 {
	return float64(slices.Max(counts)) * float64(len(counts)) / float64(sum(counts))
}

func sum(counts []int) int {
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}

func TestBalance(t *testing.T) {
	const keys = 1_000_000
	ids := nodeIDs(10)
	for _, replicas := range []int{50, 100, 160, 256, 512, 1024, DefaultReplicas} {
		ratio := maxOverMean(loads(New(replicas, nil, ids...), keys))
		t.Logf("replicas %4d: max/mean %.3f", replicas, ratio)
		if replicas == DefaultReplicas && ratio > 1.10 {
			t.Errorf("default replicas %d: max/mean %.3f, want ≤ 1.10", replicas, ratio)
		}
	}
}

// TestBalanceIDs checks the default on other sets of 10 ids, by the exact
// share of the circle each node owns rather than by sampling keys.
func TestBalanceIDs(t *testing.T) {
	for _, format := range []string{"node-%d-%d", "host%d-%d.example:6379", "10.%d.0.%d:7946"} {
		for set := range 4 {
			ids := make([]string, 10)
			for i := range ids {
				ids[i] = fmt.Sprintf(format, set, i+1)
			}
			r := New(0, nil, ids...)
			shares := make([]float64, r.Len())
			for i, p := range r.points {
				prev := r.points[(i+len(r.points)-1)%len(r.points)]
				shares[r.owners[i]] += float64(p - prev) // modulo 2^64: the first arc wraps
			}
			if ratio := slices.Max(shares) * 10 / 0x1p64; ratio > 1.10 {
				t.Errorf("%q: max/mean %.3f, want ≤ 1.10", ids, ratio)
			}
		}
	}
}

func TestMovement(t *testing.T) {
	const keys = 200_000
	ids := nodeIDs(11)
	ten, eleven := New(0, nil, ids[:10]...), New(0, nil, ids...)
	nine := New(0, nil, slices.Delete(slices.Clone(ids[:10]), 3, 4)...)
	moved := map[string]int{} // "from to" of keys that changed owner
	var key []byte
	for i := range keys {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		owner := ten.Get(key)
		if to := eleven.Get(key); to != owner {
			moved["add "+to]++
			if to != ids[10] {
				t.Fatalf("adding %s moved %q from %s to %s", ids[10], key, owner, to)
			}
		}
		if to := nine.Get(key); to != owner {
			moved["remove"]++
			if owner != ids[3] {
				t.Fatalf("removing %s moved %q from %s to %s", ids[3], key, owner, to)
			}
		} else if owner == ids[3] {
			t.Fatalf("removing %s left %q on it", ids[3], key)
		}
	}
	frac := float64(moved["add "+ids[10]]) / keys
	t.Logf("adding an 11th node moved %.4f of keys (1/11 = %.4f)", frac, 1.0/11)
	if frac < 0.06 || frac > 0.12 {
		t.Errorf("adding an 11th node moved %.4f of keys, want about 1/11", frac)
	}
	if moved["remove"] == 0 {
		t.Errorf("removing %s moved no keys", ids[3])
	}
}

func TestMapVersions(t *testing.T) {
	m := NewMap(10, nil)
	steps := []struct {
		name    string
		change  func() bool
		changed bool
		members []string
	}{
		{"add", func() bool { return m.Add("b", "a") }, true, []string{"a", "b"}},
		{"add again", func() bool { return m.Add("a") }, false, []string{"a", "b"}},
		{"add empty id", func() bool { return m.Add("") }, false, []string{"a", "b"}},
		{"add c", func() bool { return m.Add("c") }, true, []string{"a", "b", "c"}},
		{"remove absent", func() bool { return m.Remove("z") }, false, []string{"a", "b", "c"}},
		{"remove", func() bool { return m.Remove("a", "c") }, true, []string{"b"}},
		{"set same", func() bool { return m.Set("b", "b") }, false, []string{"b"}},
		{"set", func() bool { return m.Set("d", "c") }, true, []string{"c", "d"}},
		{"set none", func() bool { return m.Set() }, true, nil},
	}
	version := m.Version()
	if version != 0 {
		t.Fatalf("new empty Map: version %d, want 0", version)
	}
	for _, s := range steps {
		if got := s.change(); got != s.changed {
			t.Errorf("%s: changed = %v, want %v", s.name, got, s.changed)
		}
		if s.changed {
			version++
		}
		r := m.Load()
		if r.Version() != version || m.Version() != version {
			t.Errorf("%s: version %d, want %d", s.name, r.Version(), version)
		}
		if !slices.Equal(r.Members(), s.members) {
			t.Errorf("%s: members %q, want %q", s.name, r.Members(), s.members)
		}
		for _, id := range s.members {
			if !r.Has(id) {
				t.Errorf("%s: Has(%q) = false", s.name, id)
			}
		}
	}
	if v := NewMap(0, nil, "a").Version(); v != 1 {
		t.Errorf("NewMap with a member: version %d, want 1", v)
	}
}

// TestMapConcurrent runs lookups while the membership changes; -race checks
// that lookups need no lock, and every answer is a member of some ring.
func TestMapConcurrent(t *testing.T) {
	ids := nodeIDs(4)
	m := NewMap(20, nil, ids[0])
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range 2 {
		wg.Go(func() {
			key := []byte{byte(g)}
			for {
				select {
				case <-done:
					return
				default:
				}
				if owner := m.Get(key); !slices.Contains(ids, owner) {
					t.Errorf("Get = %q, not a node", owner)
					return
				}
				key[0]++
			}
		})
	}
	for i := range 200 {
		m.Add(ids[i%4])
		m.Remove(ids[(i+1)%4])
		m.Add(ids[0])
	}
	close(done)
	wg.Wait()
	if m.Version() < 200 {
		t.Errorf("version %d after 600 changes, want ≥ 200", m.Version())
	}
}

func TestNoAllocs(t *testing.T) {
	r := New(0, nil, nodeIDs(10)...)
	key := []byte("user:1000")
	dst := make([]string, 0, 3)
	lookups := map[string]func(){
		"Get":        func() { r.Get(key) },
		"GetString":  func() { r.GetString("user:1000") },
		"GetN":       func() { dst = r.GetN(key, 3, dst[:0]) },
		"GetNString": func() { dst = r.GetNString("user:1000", 3, dst[:0]) },
	}
	for name, f := range lookups {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", name, n)
		}
	}
}

// The lookup index finds the same point as a binary search over all of
// them, for hashes anywhere on the circle, at its ends and on the points.
func TestSearchIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 33} {
		for _, replicas := range []int{1, 3, 160, 0} {
			r := New(replicas, nil, nodeIDs(n)...)
			want := func(h uint64) int {
				i, _ := slices.BinarySearch(r.points, h)
				if i == len(r.points) {
					i = 0
				}
				return i
			}
			hs := []uint64{0, 1, math.MaxUint64, math.MaxUint64 - 1}
			for _, p := range r.points[:min(len(r.points), 50)] {
				hs = append(hs, p, p-1, p+1)
			}
			for range 20000 {
				hs = append(hs, rng.Uint64())
			}
			for _, h := range hs {
				if got, w := r.search(h), want(h); got != w {
					t.Fatalf("%d nodes, %d replicas: search(%#x) = %d, want %d", n, replicas, h, got, w)
				}
			}
		}
	}
}
