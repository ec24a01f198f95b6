"""symbolic_bp.core.expression.substitute: one bottom-up / top-down tree rewrite."""
from dataclasses import replace

from symbolic_bp.core.expression import Add, Apply, MatMul, Neg, Node, Sym, Transpose, substitute

x, y, z = Sym(name="x"), Sym(name="y"), Sym(name="z")


def tree() -> Node:
    """(x @ y.T) + -sigma(x), every node a new object."""
    return Add(left=MatMul(left=Sym(name="x"), right=Transpose(arg=Sym(name="y"))),
               right=Neg(arg=Apply(name="sigma", arg=Sym(name="x"))))


def test_every_matching_node_is_replaced():
    out = substitute(tree(), lambda n: z if n == x else None)
    assert out == Add(left=MatMul(left=z, right=Transpose(arg=y)), right=Neg(arg=Apply(name="sigma", arg=z)))


def test_a_replacement_is_not_visited_again():
    # x -> x + x would never end if the replacement were substituted in turn
    out = substitute(Neg(arg=x), lambda n: Add(left=x, right=x) if n == x else None)
    assert out == Neg(arg=Add(left=x, right=x))


def test_top_down_sees_parents_first_bottom_up_children_first():
    seen_down, seen_up = [], []
    substitute(Neg(arg=Transpose(arg=x)), lambda n: seen_down.append(type(n).__name__))
    substitute(Neg(arg=Transpose(arg=x)), lambda n: seen_up.append(type(n).__name__), bottom_up=True)
    assert seen_down == ["Neg", "Transpose", "Sym"]
    assert seen_up == ["Sym", "Transpose", "Neg"]


def test_bottom_up_the_rule_sees_substituted_children():
    # rename sigma to tanh after its argument became z: top-down the argument would not be visited
    def rule(n):
        if n == x:
            return z
        if isinstance(n, Apply):
            return replace(n, name="tanh")
        return None
    assert substitute(Apply(name="sigma", arg=x), rule, bottom_up=True) == Apply(name="tanh", arg=z)
    assert substitute(Apply(name="sigma", arg=x), rule) == Apply(name="tanh", arg=x)


def test_unchanged_subtrees_are_kept_and_only_the_path_is_rebuilt():
    t = tree()
    target = t.right.arg.arg                          # the x inside sigma(x), by identity
    rebuilt = []
    out = substitute(t, lambda n: y if n is target else None, rebuilt=lambda n: rebuilt.append(n) or n)
    assert out.left is t.left                         # untouched: the same object
    assert out.right.arg == Apply(name="sigma", arg=y)
    assert [type(n).__name__ for n in rebuilt] == ["Apply", "Neg", "Add"]
    assert substitute(t, lambda n: None) is t


def test_positions_and_shapes_survive_a_rebuild():
    t = Neg(arg=x, pos=7, shape=(2, 1))
    out = substitute(t, lambda n: y if n == x else None)
    assert out.pos == 7 and out.shape == (2, 1) and out.arg == y


def test_deep_trees():
    t = x
    for _ in range(150):
        t = Neg(arg=t)
    out = substitute(t, lambda n: z if n == x else None)
    for _ in range(150):
        out = out.arg
    assert out == z
