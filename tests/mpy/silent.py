# A "firmware" that reads its link and never answers: the host must time out.
import board
b = board.open_board()
buf = bytearray(64)
while b.read_into(buf) >= 0:
    b.wait_rx(5)
