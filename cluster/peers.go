package cluster

import "context"

// PeerPicker chooses the node that owns a key.
type PeerPicker interface {
	// PickPeer returns the owner of key and true, or false when this node
	// owns it (or has no peers).
	PickPeer(key []byte) (PeerGetter, bool)
}

// PeerGetter fetches a key from the node that owns it: the owner looks in
// its cache and loads through its getter on a miss.
type PeerGetter interface {
	Get(ctx context.Context, group string, key []byte) (Value, error)
}

// NoPeers is the PeerPicker of a node on its own: it owns every key.
type NoPeers struct{}

// PickPeer reports that this node owns key.
func (NoPeers) PickPeer(key []byte) (PeerGetter, bool) { return nil, false }
