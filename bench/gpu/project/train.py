N = 1024  # @tune 256..8192 int log
