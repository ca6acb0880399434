package lru

import "bytes"

const minIndex = 16

// lookup returns key's slot and id, or the empty slot where key would go and
// id 0. The index must not be empty unless the cache is.
func (c *Cache) lookup(key []byte, h uint32) (slot int, id uint32) {
	if len(c.index) == 0 {
		return -1, 0
	}
	mask := uint32(len(c.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := c.index[i]
		if s == 0 {
			return int(i), 0
		}
		if uint32(s>>32) != h {
			continue
		}
		e := c.ent(uint32(s))
		if int(e.klen) == len(key) && bytes.Equal(c.keyOf(e), key) {
			return int(i), uint32(s)
		}
	}
}

// unindex removes id, whose hash tag is h, from the index, shifting later
// entries of the probe run back so that no tombstone is needed.
func (c *Cache) unindex(h, id uint32) {
	mask := uint32(len(c.index) - 1)
	want := uint64(h)<<32 | uint64(id)
	i := h & mask
	for c.index[i] != want {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; c.index[j] != 0; j = (j + 1) & mask {
		home := uint32(c.index[j]>>32) & mask
		// The entry at j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			c.index[i] = c.index[j]
			i = j
		}
	}
	c.index[i] = 0
	if len(c.index) > minIndex && c.n*8 < len(c.index) {
		c.resize(len(c.index) / 2)
	}
}

// growIndex makes room for one more item.
func (c *Cache) growIndex() {
	if (c.n+1)*4 > len(c.index)*3 {
		c.resize(max(minIndex, 2*len(c.index)))
	}
}

func (c *Cache) resize(size int) {
	old := c.index
	c.index = make([]uint64, size)
	mask := uint32(size - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for c.index[i] != 0 {
			i = (i + 1) & mask
		}
		c.index[i] = s
	}
}
