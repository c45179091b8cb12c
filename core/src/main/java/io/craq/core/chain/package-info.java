/**
 * Many chains over a pool of nodes: which chain holds a key ({@link io.craq.core.chain.KeySlots}),
 * a chain's share of a node's store ({@link io.craq.core.chain.ChainSlice}) and where each chain's
 * members go ({@link io.craq.core.chain.Placement}).
 */
package io.craq.core.chain;
