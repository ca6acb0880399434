package hash_test

import (
	"fmt"

	"github.com/geeredis/geeredis/hash"
)

func ExampleRing_Get() {
	r := hash.New(0, nil, "10.0.0.3:7946", "10.0.0.1:7946", "10.0.0.2:7946")
	for _, key := range []string{"user:1", "user:2", "user:3", "user:4"} {
		fmt.Println(key, "->", r.Get([]byte(key)))
	}
	fmt.Println(r.Members())
	// Output:
	// user:1 -> 10.0.0.2:7946
	// user:2 -> 10.0.0.2:7946
	// user:3 -> 10.0.0.3:7946
	// user:4 -> 10.0.0.1:7946
	// [10.0.0.1:7946 10.0.0.2:7946 10.0.0.3:7946]
}

func ExampleRing_GetN() {
	r := hash.New(0, nil, "a", "b", "c", "d")
	// The owner of the key first, then the nodes that would take it over.
	fmt.Println(r.GetN([]byte("user:1"), 2, nil))
	// n is capped at the number of nodes; reuse dst to avoid allocating.
	dst := make([]string, 0, 4)
	fmt.Println(r.GetNString("user:1", 10, dst[:0]))
	// Output:
	// [a c]
	// [a c d b]
}

func ExampleMap() {
	var m hash.Map // the zero value: DefaultReplicas, xxhash, no nodes
	fmt.Printf("%q %d\n", m.Get([]byte("user:1")), m.Version())

	m.Add("a", "b")
	m.Add("a") // already a member: no change, same version
	r := m.Load()
	fmt.Println(r.Members(), r.Version(), r.GetString("user:1"))

	m.Remove("a")
	fmt.Println(m.Load().Members(), m.Version(), m.Get([]byte("user:1")))
	// r is still the ring it was: lookups that loaded it finish on it.
	fmt.Println(r.Members(), r.Version())
	// Output:
	// "" 0
	// [a b] 1 a
	// [b] 2 b
	// [a b] 1
}
