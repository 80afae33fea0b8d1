import torch

from rewardlab.models.padding import last_token_index, right_align


def test_right_align_moves_left_padding_to_the_right() -> None:
    ids = torch.tensor([[0, 0, 5, 6], [7, 8, 9, 1]])
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    new_ids, new_mask = right_align(ids, mask, pad_id=0)
    assert new_ids.tolist() == [[5, 6, 0, 0], [7, 8, 9, 1]]
    assert new_mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]


def test_right_aligned_batches_are_returned_unchanged() -> None:
    ids = torch.tensor([[5, 6, 0]])
    mask = torch.tensor([[1, 1, 0]])
    out_ids, out_mask = right_align(ids, mask, pad_id=0)
    assert out_ids is ids and out_mask is mask


def test_last_token_index_comes_from_the_mask_not_the_pad_id() -> None:
    # the real token at index 2 has the same id as padding (pad == eos)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert last_token_index(mask).tolist() == [2, 3]
