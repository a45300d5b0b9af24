import pytest
import torch

from onepoch.data import sparsity
from onepoch.errors import DataError

from helpers import tiny_data


def test_filter_keeps_the_most_frequent_ids_and_maps_the_rest_to_default():
    new, size = sparsity.mapping(12, "filter", 0.3)  # 10 real ids -> keep ceil(3) = 3
    assert size == 5
    assert new.tolist() == [0, 1, 2, 3, 4, 1, 1, 1, 1, 1, 1, 1]


def test_filter_m_one_is_the_identity():
    new, size = sparsity.mapping(50, "filter", 1.0)
    assert size == 50 and torch.equal(new, torch.arange(50))


def test_hash_buckets_keep_padding_and_default_and_are_fixed():
    new, size = sparsity.mapping(1002, "hash", 0.01)
    assert size == 12 and new[0] == 0 and new[1] == 1
    assert new[2:].min() >= 2 and new[2:].max() < 12
    assert torch.equal(new, sparsity.mapping(1002, "hash", 0.01)[0])
    assert len(torch.unique(new[2:])) == 10  # 1000 ids fill all 10 buckets


def test_apply_remaps_every_id_field_and_nothing_else():
    data = tiny_data(300, 50)
    out = sparsity.apply(data, "filter", 0.1)
    assert out.vocab_size == 2 + 31
    for split in ("train", "test"):
        for k, v in getattr(out, split).items():
            if k in sparsity.ID_FIELDS:
                assert v.max() < out.vocab_size
                assert torch.equal(v == 0, getattr(data, split)[k] == 0)  # padding stays padding
            else:
                assert torch.equal(v, getattr(data, split)[k])
    assert out.checksum != data.checksum
    assert sparsity.apply(data, "none") is data


@pytest.mark.parametrize("kind, m", [("bucket", 0.1), ("filter", 0.0), ("hash", 1.5)])
def test_bad_transform_is_a_clear_error(kind, m):
    with pytest.raises(DataError, match="sparsity"):
        sparsity.mapping(10, kind, m)
