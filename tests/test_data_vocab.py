"""The global vocabulary: frequency order, padding/default ids, shared tokens."""
import numpy as np
import torch

from onepoch.data.vocab import Vocabulary


def raw(user, item, category, hist_items, hist_cats):
    user = np.array(user)
    return dict(user_raw=user, item=np.array(item), category=np.array(category),
                hist_items=np.array(hist_items), hist_cats=np.array(hist_cats),
                label=np.tile(np.array([1, 0], np.float32), len(user) // 2))


TRAIN = raw(user=[7, 7, 8, 8],
            item=[5, 6, 5, 9],
            category=[2, 3, 2, 0],  # 0 = unknown category: no token
            hist_items=[[6, 5, 0], [6, 5, 0], [9, 0, 0], [9, 0, 0]],
            hist_cats=[[3, 2, 0], [3, 2, 0], [0, 0, 0], [0, 0, 0]])


def test_ids_by_descending_count_then_kind_then_raw():
    vocab = Vocabulary.fit(TRAIN)
    # counts: item 5: 4, item 6: 3, item 9: 3, cat 2: 4, cat 3: 3, user 7: 2, user 8: 2
    assert list(zip(vocab.kind[2:].tolist(), vocab.raw[2:].tolist(), vocab.counts[2:].tolist())) == [
        (1, 5, 4), (2, 2, 4), (1, 6, 3), (1, 9, 3), (2, 3, 3), (0, 7, 2), (0, 8, 2)]
    assert vocab.size == len(vocab.counts) == 9
    assert vocab.counts[:2].tolist() == [0, 0] and vocab.kind[:2].tolist() == [-1, -1]
    assert vocab.kind_sizes() == {"user": 2, "item": 3, "category": 2}


def test_encode_shares_item_tokens_and_maps_padding_and_unseen():
    vocab = Vocabulary.fit(TRAIN)
    enc = vocab.encode(TRAIN)
    assert set(enc) == {"user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids", "label", "user_raw"}
    assert all(t.dtype == torch.int64 for k, t in enc.items() if k != "label") and enc["label"].dtype == torch.float32
    assert enc["item_id"].tolist() == [2, 4, 2, 5]
    assert enc["hist_item_ids"][0].tolist() == [4, 2, 0]  # item 6 is id 4 in both fields; padding stays 0
    assert enc["cat_id"].tolist() == [3, 6, 3, 0]
    assert enc["user_raw"].tolist() == [7, 7, 8, 8] and enc["user_id"].tolist() == [7, 7, 8, 8]

    test = vocab.encode(raw(user=[9, 9], item=[5, 123456], category=[4, 2], hist_items=[[77, 0], [77, 0]],
                            hist_cats=[[2, 0], [2, 0]]))
    assert test["user_id"].tolist() == [1, 1]  # unseen user
    assert test["item_id"].tolist() == [2, 1] and test["cat_id"].tolist() == [1, 3]
    assert test["hist_item_ids"].tolist() == [[1, 0], [1, 0]]


def test_state_dict_round_trip():
    vocab = Vocabulary.fit(TRAIN)
    again = Vocabulary.from_state_dict(vocab.state_dict())
    for key, value in vocab.encode(TRAIN).items():
        assert torch.equal(again.encode(TRAIN)[key], value)
    assert "size=9" in repr(again)
