"""PHP analyser on Composer 1 and Composer 2 installed.json files."""

from __future__ import annotations

from pathlib import Path

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.php.analyser import PhpAnalyser

DATA = Path(__file__).parent / "data" / "php"


def test_wants():
    a = PhpAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants("var/www/html/vendor/composer/installed.json", 5000)
    assert a.wants("vendor/composer/installed.json", 5000)
    assert not a.wants("var/www/html/vendor/composer/installed.php", 5000)
    assert not a.wants("var/www/html/composer.json", 5000)


def test_composer_2():
    pkgs = PhpAnalyser().analyse({"app/vendor/composer/installed.json": DATA / "installed-v2.json"})
    assert [(p.name, p.version) for p in pkgs] == [
        ("monolog/monolog", "2.9.1"), ("psr/log", "3.0.0"), ("symfony/console", "v6.3.4")]
    assert pkgs[0].purl == "pkg:composer/monolog/monolog@2.9.1"
    assert pkgs[0].licenses == ["MIT"] and pkgs[0].ecosystem == "Packagist"
    assert pkgs[0].path == "app/vendor/composer/installed.json"


def test_composer_1(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    files = {"a/vendor/composer/installed.json": DATA / "installed-v1.json",
             "b/vendor/composer/installed.json": tmp_path / "broken.json"}
    pkgs = PhpAnalyser().analyse(files)
    assert [(p.name, p.version) for p in pkgs] == [("guzzlehttp/guzzle", "6.5.5"), ("guzzlehttp/psr7", "1.6.1")]
