"x
