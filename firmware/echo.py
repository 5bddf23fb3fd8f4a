"""Echo firmware: sends every received byte straight back through the board
layer.  It measures the bare link (the limit any firmware can reach on this
link) for `make bench`, and checks a board's wiring before a flight."""
import board


def main():
    b = board.open_board()
    buf = bytearray(256)
    mv = memoryview(buf)
    views = [mv[0:n] for n in range(257)]  # no slicing (allocation) per read
    while True:
        n = b.read_into(buf)
        if n < 0:
            break
        if n:
            b.write(views[n])
        else:
            b.wait_rx(5)


main()
