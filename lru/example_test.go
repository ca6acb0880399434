package lru_test

import (
	"fmt"

	"github.com/geeredis/geeredis/lru"
)

func Example() {
	c := lru.New()
	now := int64(1_700_000_000_000) // Unix ms, passed in by the caller

	c.Set([]byte("greeting"), []byte("hello"), 0)
	c.Set([]byte("session"), []byte("abc"), now+1000) // expires in 1 s

	if it, ok := c.Get([]byte("greeting"), now); ok {
		fmt.Printf("greeting = %s\n", it.Value)
	}
	_, ok := c.Get([]byte("session"), now+1001)
	fmt.Println("session after 1.001 s:", ok)
	fmt.Println("items:", c.Len(), "bytes:", c.Bytes())
	fmt.Printf("%+v\n", c.Stats())
	// Output:
	// greeting = hello
	// session after 1.001 s: false
	// items: 1 bytes: 77
	// {Hits:1 Misses:1 Evictions:0 Expired:1 Compactions:0}
}

// A byte limit is kept by evicting the least recently used items after each
// write, which is what cluster.Store does per shard.
func ExampleCache_RemoveOldest() {
	const limit = 3 * (lru.EntryOverhead + 2)
	c := lru.New()
	for _, k := range []string{"a", "b", "c", "d"} {
		c.Set([]byte(k), []byte("1"), 0)
		if k == "c" {
			c.Get([]byte("a"), 0) // a is now more recent than b
		}
		for c.Bytes() > limit {
			c.RemoveOldest()
		}
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		_, ok := c.Peek([]byte(k), 0)
		fmt.Println(k, ok)
	}
	// Output:
	// a true
	// b false
	// c true
	// d true
}

func ExampleCache_Scan() {
	c := lru.New()
	for _, k := range []string{"one", "two", "three", "four", "five"} {
		c.Set([]byte(k), []byte("v"), 0)
	}
	cursor := uint64(0)
	for {
		var keys []string
		cursor = c.Scan(cursor, 2, 0, func(key []byte, _ lru.Item) {
			keys = append(keys, string(key)) // string copies the key
		})
		fmt.Println(keys, cursor)
		if cursor == 0 {
			break
		}
	}
	// Output:
	// [one two] 3
	// [three four] 5
	// [five] 0
}

func ExampleCache_ExpireSome() {
	c := lru.New()
	for i := range 100 {
		c.Set([]byte{byte(i)}, []byte("v"), int64(1000+i%2)) // half expire after 1000, half after 1001
	}
	// Walking Span()/10 ids per tick removes every expired item within 10 ticks.
	removed := 0
	for range 10 {
		removed += c.ExpireSome(1001, c.Span()/10)
	}
	fmt.Println("removed", removed, "left", c.Len())
	// Output:
	// removed 50 left 50
}
